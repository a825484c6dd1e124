// The Node leg runs the .ts sources directly, which needs Node >= 22.18. npm puts
// node_modules/.bin first on PATH, so the `node` devDependency (Node 24) is the one found here.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  console.error(
    `the tests need Node 22.18 or later (this is Node ${process.versions.node}): run "npm ci" ` +
      `so that the node devDependency (Node 24) is installed, and run them through npm ` +
      `("npm test"), which puts it first on PATH`,
  );
  process.exit(1);
}
