// The Node leg runs the .ts sources directly, which needs Node >= 22.18. npm puts
// node_modules/.bin first on PATH, so the `node` devDependency (Node 24) is the one found here.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  console.error(
    `Node ${process.versions.node} cannot run TypeScript directly; run "npm ci" so the ` +
      `node devDependency (Node 24) is installed, and run the tests through npm.`,
  );
  process.exit(1);
}
