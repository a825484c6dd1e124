/**
 * foxtail: online anomaly detection for IoT gateways.
 *
 * The core is plain TypeScript with no runtime APIs and no dependencies; it runs unchanged on
 * Deno, Bun and Node.
 *
 * @example
 * ```ts
 * import { KitNET } from "./mod.ts";
 * const k = new KitNET({ n: 3, fmGracePeriod: 100, adGracePeriod: 1000 });
 * const score = k.process([0.1, 20, 3]);
 * ```
 *
 * @module
 */

export {
  type AutoencoderContribution,
  type Explanation,
  KitNET,
  type KitNETOptions,
  type KitNETPhase,
} from "./core/kitnet.ts";
export { MersenneTwister } from "./core/mersenne_twister.ts";
export { isSupportedLinkType, LinkType } from "./core/link_type.ts";
export { emptyPacketFields, PacketDecoder, type PacketFields } from "./core/packet_fields.ts";
export {
  DampedStreamTable,
  type DampedStreamTableOptions,
  type TableUsage,
} from "./core/damped_stream_table.ts";
export {
  AfterImage,
  type AfterImageOptions,
  type AfterImageUsage,
  DEFAULT_MAX_PAIRS,
  DEFAULT_MAX_STREAMS,
  KITSUNE_LAMBDAS,
  kitsuneFeatureNames,
} from "./core/afterimage.ts";
export { Kitsune, type KitsuneOptions } from "./core/kitsune.ts";
export { ScoreThreshold, type ScoreThresholdOptions } from "./core/score_threshold.ts";
export { ConfigError } from "./core/config_reader.ts";
export {
  GATEWAY_DEFAULTS,
  type GatewayConfig,
  type StreamConfig,
  validateGatewayConfig,
} from "./core/gateway_config.ts";
export {
  type AlertEvent,
  type DeviceSummary,
  type GatewayCounters,
  GatewayEngine,
  type GatewayOutput,
  type RestoreReport,
} from "./core/gateway_engine.ts";
export {
  type Attribution,
  DeviceDetector,
  type DevicePhase,
  type Verdict,
} from "./core/device_detector.ts";
export { deviceIdProblem, DeviceTopicPattern } from "./core/device_topic.ts";
export { PayloadDecoder, REJECT_REASONS, type RejectReason } from "./core/payload_decoder.ts";
export { DropOldestQueue } from "./core/drop_oldest_queue.ts";
export { LruTable } from "./core/lru_table.ts";
export { ScoreHistory, type ScorePoint } from "./core/score_history.ts";
export {
  DeepAutoencoder,
  type DeepAutoencoderOptions,
  type DeepAutoencoderTrainingOptions,
  KDD99_TRAINING,
  NSL_KDD_TRAINING,
  PAPER_HIDDEN_LAYERS,
} from "./core/deep_autoencoder.ts";
export { type DenseLayerSpec, DenseNetwork, DenseWorkspace } from "./core/dense_network.ts";
export {
  type DenseTrainingOptions,
  type EarlyStopping,
  type EpochReport,
  type KernelPenalty,
  rowMeanSquaredErrors,
  trainDense,
  type TrainingHistory,
} from "./core/dense_trainer.ts";
export { Adam, type AdamOptions } from "./core/adam.ts";
export { type Activation, ACTIVATIONS } from "./core/activations.ts";
export { ColumnScaler, type ScalingMethod } from "./core/column_scaler.ts";
export {
  type TabularColumn,
  TabularEncoder,
  type TabularRecord,
  type TabularValue,
} from "./core/tabular_encoder.ts";
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
} from "./core/anomaly_thresholds.ts";
export {
  type BinaryLabel,
  type ClassificationReport,
  classificationReport,
  type ConfusionMatrix,
  confusionMatrix,
  prAuc,
  predictAtThreshold,
  rocAuc,
} from "./core/metrics.ts";
