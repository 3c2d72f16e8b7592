/**
 * agent/: what the actions running on one agent share: locks (per engine
 * image name, per registry tag), the names and private configs a killed
 * action left and the sweep that clears them, interrupts, the process's
 * identity, and the V8 code cache of the big bundles. This file is the one
 * list of the modules the methods load only when an action needs them, by
 * their path under src/ (and dist/): the build (scripts/build.ts) makes each
 * a bundle of its own, code-cache.ts loads each from its code cache.
 */
export const LAZY_BUNDLES = {
  /** Private ECR as a registry API: the AWS SDK's ECR client and the plugin's use of it. */
  ecrRegistry: 'aws/ecr-registry',
  /** ECR Public as a registry API: the AWS SDK's ECR Public client (only actions with registryType public). */
  ecrPublicRegistry: 'aws/ecr-public-registry',
  /** The docker side of push and pull (execa). */
  imageTransfer: 'docker/image-transfer',
  /** The agent-wide locks' files (proper-lockfile): only actions that push, pull, tag or copy. */
  lockFile: 'agent/lock-file',
  /** STS AssumeRole through the SDK's credential providers: only actions with a role. */
  assumeRole: 'aws/assume-role',
  /** The proxy agents: only when the agent's environment names a proxy. */
  proxyAgent: 'aws/proxy-agent',
  /** copyImage's registry side: the registries' HTTP API and the copy engine. */
  copySession: 'copy/copy-session',
  /** The SDK's default credential chain: only actions with no keys. */
  credentialChain: 'aws/credential-chain',
} as const;

export type LazyBundle = (typeof LAZY_BUNDLES)[keyof typeof LAZY_BUNDLES];
