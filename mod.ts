/**
 * foxtail: online anomaly detection for IoT gateways.
 *
 * The core is plain TypeScript with no runtime APIs and no dependencies; it runs unchanged on
 * Deno, Bun and Node.
 *
 * Every detector implements one interface ({@linkcode Detector}: learn and score one instance,
 * its phase, an explanation, its state as bytes); the registry makes one by its type's name
 * and reads any model file back.
 *
 * @example
 * ```ts
 * import { detectorType, readDetector } from "./mod.ts";
 * const shape = { stream: "env", fields: ["t", "h", "p"], features: ["t", "h", "p"], files: new Map() };
 * const detector = detectorType("kitnet")
 *   .forStream({ type: "kitnet", fmGracePeriod: 100, adGracePeriod: 1000 }, shape)
 *   .create();
 * const score = detector.process([0.1, 20, 3]); // 0 while it learns
 * const copy = readDetector(detector.toBytes());
 * ```
 *
 * @module
 */

export { VERSION } from "./core/version.ts";

export {
  type Detector,
  type DetectorPhase,
  type DetectorType,
  type EpochProgress,
  type FeatureGroup,
  type FitOptions,
  type FitResult,
  type ModelFlag,
  type ModelOptions,
  ModelProblem,
  type ScoreExplanation,
  type StreamDetectors,
  type StreamShape,
} from "./core/detector.ts";
export {
  DEFAULT_DETECTOR_TYPE,
  DETECTOR_TYPES,
  detectorType,
  LEGACY_MODEL_CODES,
  readDetector,
} from "./core/registry.ts";
export {
  type Calibration,
  calibrationFor,
  type CalibrationOptions,
  exceeds,
  FixedThreshold,
  hasThreshold,
  LogNormalCalibration,
  NO_THRESHOLD,
} from "./core/thresholds/mod.ts";
export {
  KITNET_TYPE,
  KitNETDetector,
  type KitNETModelOptions,
  kitnetType,
} from "./core/kitnet/mod.ts";
export {
  DEEP_AE_TYPE,
  DeepAeDetector,
  type DeepAeModelOptions,
  deepAeType,
} from "./core/deep_ae/mod.ts";
export {
  type FeatureRange,
  HalfSpaceTrees,
  type HalfSpaceTreesOptions,
  type HalfSpaceTreesPhase,
  type HalfSpaceTreesProblem,
  halfSpaceTreesProblem,
  type HalfSpaceTreesSettings,
  type HalfSpaceTreesTables,
  HST_DEFAULTS,
  HST_LIMITS,
  HST_TYPE,
  HSTDetector,
  type HSTModelOptions,
  hstType,
  readHalfSpaceTrees,
  writeHalfSpaceTrees,
} from "./core/hst/mod.ts";
export {
  type AutoencoderContribution,
  type AutoencoderKernelKind,
  type Explanation,
  fastestKernel,
  KERNEL_MIN_FEATURES,
  KitNET,
  KITNET_DEFAULTS,
  KITNET_KERNELS,
  type KitNETKernelChoice,
  type KitNETOptions,
  type KitNETPhase,
} from "./core/kitnet/mod.ts";
export { MersenneTwister } from "./core/math/mod.ts";
export { ByteReader, ByteWriter } from "./core/codec/mod.ts";
export { isSupportedLinkType, LinkType } from "./core/packets/mod.ts";
export { emptyPacketFields, PacketDecoder, type PacketFields } from "./core/packets/mod.ts";
export {
  DampedStreamTable,
  type DampedStreamTableOptions,
  type TableUsage,
} from "./core/packets/mod.ts";
export {
  AfterImage,
  type AfterImageOptions,
  type AfterImageUsage,
  DEFAULT_MAX_PAIRS,
  DEFAULT_MAX_STREAMS,
  KITSUNE_LAMBDAS,
  kitsuneFeatureNames,
} from "./core/packets/mod.ts";
export { Kitsune, type KitsuneOptions, PacketFeatures } from "./core/packets/mod.ts";
export {
  type LogNormalFit,
  ScoreThreshold,
  type ScoreThresholdOptions,
} from "./core/thresholds/mod.ts";
export { ConfigError } from "./core/gateway/mod.ts";
export {
  type DeepAeModelConfig,
  type FeaturesConfig,
  type HSTModelConfig,
  type IncidentsConfig,
  type KitNETModelConfig,
  type LimitsConfig,
  type ModelConfig,
  type PayloadConfig,
  type PayloadFormat,
  PIPELINE_DEFAULTS,
  type PipelineConfig,
  type StreamConfig,
  type ThresholdConfig,
  validatePipelineConfig,
} from "./core/gateway/mod.ts";
export {
  type AlertEvent,
  type DeviceSummary,
  type GatewayCounters,
  GatewayEngine,
  type GatewayOutput,
  type Rejection,
  type RestoreReport,
} from "./core/gateway/mod.ts";
export {
  type Attribution,
  DeviceDetector,
  type DevicePhase,
  type DeviceState,
  type FeatureError,
  type Verdict,
} from "./core/gateway/mod.ts";
export { deviceIdProblem, DeviceTopicPattern } from "./core/gateway/mod.ts";
export { PayloadDecoder, REJECT_REASONS, type RejectReason } from "./core/gateway/mod.ts";
export { DropOldestQueue } from "./core/gateway/mod.ts";
export { LruTable } from "./core/gateway/mod.ts";
export { REJECT_TEXT_KEPT, type RejectSource, RejectTally } from "./core/gateway/mod.ts";
export { ScoreHistory, type ScorePoint } from "./core/gateway/mod.ts";
export {
  DIGEST_RANGES,
  type DigestPoint,
  type DigestRange,
  ScoreDigest,
} from "./core/gateway/mod.ts";
export {
  DEVICE_STATES,
  type DevicePage,
  type DeviceQuery,
  queryDevices,
} from "./core/gateway/mod.ts";
export {
  type Incident,
  type IncidentChange,
  type IncidentCounts,
  type IncidentFeature,
  IncidentLog,
  type IncidentLogOptions,
  type IncidentQuery,
  TOP_FEATURES,
} from "./core/incidents/mod.ts";
export {
  DeepAutoencoder,
  type DeepAutoencoderOptions,
  type DeepAutoencoderTrainingOptions,
  KDD99_TRAINING,
  NSL_KDD_TRAINING,
  PAPER_HIDDEN_LAYERS,
} from "./core/deep_ae/mod.ts";
export { type DenseLayerSpec, DenseNetwork, DenseWorkspace } from "./core/deep_ae/mod.ts";
export {
  type DenseTrainingOptions,
  type EarlyStopping,
  type EpochReport,
  type KernelPenalty,
  rowMeanSquaredErrors,
  trainDense,
  type TrainingHistory,
} from "./core/deep_ae/mod.ts";
export { Adam, type AdamOptions } from "./core/deep_ae/mod.ts";
export { type Activation, ACTIVATIONS } from "./core/deep_ae/mod.ts";
export { ColumnScaler, type ScalingMethod } from "./core/deep_ae/mod.ts";
export {
  type TabularColumn,
  TabularEncoder,
  type TabularRecord,
  type TabularValue,
} from "./core/deep_ae/mod.ts";
export {
  confidenceBoundThreshold,
  type ErrorStatistics,
  errorStatistics,
  formatThresholdRule,
  logNormalTailThreshold,
  meanStdThreshold,
  PAPER_Z,
  parseThresholdRule,
  quantileThreshold,
  thresholdFor,
  type ThresholdRule,
} from "./core/thresholds/mod.ts";
export {
  type BinaryLabel,
  type ClassificationReport,
  classificationReport,
  type ConfusionMatrix,
  confusionMatrix,
  prAuc,
  predictAtThreshold,
  rocAuc,
} from "./core/evaluation/mod.ts";
