/**
 * `npm run demo`: the plugin's six methods, run on this machine the way the Kaholo agent runs
 * them (config.json's `main` loaded with require(), `exports[method]({ method, params }, settings)`),
 * against a local stand-in for AWS: the local ECR API endpoint, a real registry behind its tokens,
 * and a Docker engine (the running one, or a private dockerd started for the demo when none runs
 * and this user may start one).
 *
 *   1. describeRepositories  the repositories the demo created
 *   2. getEcrLogin           a token for the local registry (password masked in this printout)
 *   3. pushImgaeToRepo       a ~1 MB image the demo makes
 *   4. pullImage             the same image back, after removing it locally; digests compared
 *   5. checkImageScan        the pushed image's scan (set in the stand-in) judged: the gate for 6
 *   6. tagImage              the pushed image promoted to a second tag in the registry (no Docker),
 *                            only because it passed the gate
 *   7. copyImage             a promotion: the image copied to a second account's registry, through
 *                            a role there, by the registries' HTTP API (no Docker, same digest)
 *   8. pushImgaeToRepo       registryType public: the same image published on the ECR Public
 *                            stand-in, in a public repository it creates with catalog data
 *   9. pullImage             registryType public, with no AWS credentials anywhere: an anonymous pull
 *
 * Without Docker (no engine and none can be started, or no docker-registry) it runs 1 and 2 and
 * says why it skipped 3 to 9; `--no-docker` does that on purpose. Everything it starts listens on
 * 127.0.0.1 and is stopped at the end, its temporary directories removed. AWS_ENDPOINT_URL_ECR is
 * set in this process only; the user's ~/.docker/config.json is never written (checked at the end).
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import execa from 'execa';
import { loadPlugin, REPO_ROOT, type LoadedPlugin } from '../devkit/agent';
import { isolateAwsEnvironment } from '../devkit/aws-env';
import { makeImage, removeImage } from '../devkit/images';
import { LOCAL_ROLES } from '../devkit/local-ecr';
import { LOCAL_REPOSITORIES, seedScan, startLocalStack, useLocalEndpoint, type LocalStack } from '../devkit/local-stack';
import { parseCommandLine, UsageError } from '../devkit/cli-args';
import { bold, dim, indent, json, maskVault, seconds, withPrefixedOutput } from '../devkit/printing';
import { ensureBuilt } from './build';

const IMAGE_BYTES = 1024 * 1024;
const LOCAL_IMAGE = 'kaholo-demo/app:1.0.0';
const PUSH_REPO = 'demo/app';
const TAG = '1.0.0';
const STEPS = 9;
const PROMOTED_TAG = 'stable';
const PUBLIC_REPO = 'demo/public-app';

/** Set on Ctrl-C (SIGINT) or SIGTERM: the step under way finishes or fails, and no further step starts. */
let interrupted: NodeJS.Signals | undefined;
function checkNotInterrupted(): void {
  if (interrupted) throw new Error(`interrupted by ${interrupted}`);
}

interface Options {
  docker: boolean;
}

const USAGE = 'usage: npm run demo [-- --no-docker]\n  --no-docker  run only describeRepositories and getEcrLogin (no Docker engine, no registry)';

function parseArgs(argv: string[]): Options {
  const commandLine = parseCommandLine(argv, { 'no-docker': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, USAGE);
  if (commandLine.has('help')) {
    console.log(USAGE);
    process.exit(0);
  }
  if (commandLine.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(commandLine.positionals[0])}; ${USAGE}`);
  return { docker: !commandLine.has('no-docker') };
}

function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

function heading(step: number, method: string, viewName: string): void {
  say();
  say(bold(`━━ ${step}/${STEPS}  ${method}  (${viewName}) ${'━'.repeat(Math.max(3, 60 - method.length - viewName.length))}`));
}

async function sha256OfFile(file: string): Promise<string | undefined> {
  const data = await fs.readFile(file).catch(() => undefined);
  return data === undefined ? undefined : createHash('sha256').update(data).digest('hex');
}

/** Runs one method as the agent does, printing its inputs, its activity log and its result. */
async function runStep(
  plugin: LoadedPlugin,
  step: number,
  method: string,
  params: Record<string, unknown>,
  settings: Record<string, unknown>,
  show: (result: unknown) => unknown = (result) => result,
): Promise<unknown> {
  checkNotInterrupted();
  const declaration = plugin.manifest.methods.find((m) => m.name === method);
  if (!declaration) throw new Error(`config.json declares no method ${method}`);
  heading(step, method, declaration.viewName);
  say(dim('action.params (what the action form holds; empty params fall back to the plugin settings)'));
  say(indent(json(maskVault(params, declaration.params))));
  say(dim('settings (the plugin settings)'));
  say(indent(json(maskVault(settings, plugin.manifest.settings))));
  say(dim('activity log'));
  const started = Date.now();
  const result = await withPrefixedOutput('  │ ', () => plugin.run(method, params, settings));
  say(dim(`result (${seconds(Date.now() - started)})`));
  say(indent(json(show(result))));
  return result;
}

interface AuthorizationEntry {
  authorizationToken?: string;
  decodedToken?: { host?: string; user?: string; password?: string };
  baseDockerLoginCommand?: string;
  [key: string]: unknown;
}

/** getEcrLogin's result for printing: the token and the password replaced, everywhere they occur. */
function maskLogin(result: unknown): { masked: unknown; secrets: string[] } {
  const entries = ((result as { authorizationData?: AuthorizationEntry[] }).authorizationData ?? []);
  const secrets = entries.flatMap((e) => [e.authorizationToken, e.decodedToken?.password]).filter((s): s is string => !!s);
  let text = JSON.stringify(result);
  for (const secret of secrets.sort((a, b) => b.length - a.length)) text = text.split(secret).join('***masked by the demo***');
  return { masked: JSON.parse(text) as unknown, secrets };
}

async function dockerImageInfo(env: NodeJS.ProcessEnv, reference: string): Promise<{ id: string; repoDigests: string[] } | undefined> {
  const result = await execa('docker', ['image', 'inspect', '--format', '{{json .Id}} {{json .RepoDigests}}', reference], {
    env,
    reject: false,
    stdin: 'ignore',
  });
  if (result.exitCode !== 0) return undefined;
  const [id, digests] = result.stdout.trim().split(' ');
  return { id: JSON.parse(id) as string, repoDigests: JSON.parse(digests) as string[] };
}

function describeEnvironment(stack: LocalStack): void {
  say(bold('Local stand-in for AWS (all on 127.0.0.1)'));
  say(`  ECR API endpoint   ${stack.ecr.endpoint.url}   (AWS_ENDPOINT_URL_ECR, set in this process only)`);
  const registry = stack.ecr.registries[0];
  say(`  registry           ${registry ? `${registry.url}   (docker-registry, basic auth with the token's password)` : 'none'}`);
  if (stack.engine) {
    say(`  Docker engine      ${stack.engine.env.DOCKER_HOST}   (${stack.engine.started ? 'a private dockerd started for the demo' : 'the engine already running here'})`);
  } else {
    say(`  Docker engine      none: ${stack.dockerSkipped ?? 'not wanted'}`);
  }
  say(`  account            ${stack.ecr.endpoint.defaultRegistryId}, region ${stack.ecr.settings.region}, repositories ${LOCAL_REPOSITORIES.join(', ')}`);
  const publicRegistry = stack.ecr.publicRegistry?.registry;
  if (publicRegistry) {
    say(`  ECR Public         ${stack.ecr.endpoint.url}   (AWS_ENDPOINT_URL_ECR_PUBLIC), alias ${stack.ecr.publicRegistry?.state.alias ?? ''}`);
    say(`  public registry    ${publicRegistry.url}   (docker-registry, tokens from the kit's token service: anyone may pull)`);
  }
}

async function demo(options: Options, plugin: LoadedPlugin, cleanups: Array<() => Promise<void>>): Promise<void> {
  const { manifest } = plugin;
  say(bold(`${manifest.viewName} plugin ${manifest.version}: a local run of its methods, as the Kaholo agent runs them`));
  say(dim(`${path.join(REPO_ROOT, manifest.main)} is loaded with require(); each method is called as exports[method]({ method, params }, settings).`));
  say();

  // Two accounts: the second is where step 7 promotes the image to; and a public registry for 8 and 9.
  const stack = await startLocalStack({ docker: options.docker, accounts: 2, publicRegistry: true, progress: (line) => say(dim(line)) });
  cleanups.push(() => stack.stop());
  if (!options.docker) stack.dockerSkipped = 'the demo was run with --no-docker';
  useLocalEndpoint(stack);
  stack.ecr.endpoint.createRepositories(LOCAL_REPOSITORIES);
  say();
  describeEnvironment(stack);
  checkNotInterrupted();

  // What an admin puts on the plugin's settings page; the actions below leave keys and region empty.
  const settings = { ...stack.ecr.settings };

  await runStep(plugin, 1, 'describeRepositories', {}, settings);

  const login = await runStep(plugin, 2, 'getEcrLogin', {}, settings, (result) => maskLogin(result).masked);
  const { secrets } = maskLogin(login);
  say(
    dim(
      `  Note: the real result holds the registry password in authorizationToken, decodedToken.password and\n` +
        `  baseDockerLoginCommand, by design (as the original plugin documents, so later actions can log in);\n` +
        `  the demo masked ${secrets.length} secret value(s) in this printout only. Push and pull never return it.`,
    ),
  );

  if (!stack.engine || stack.ecr.registries.length === 0) {
    say();
    say(bold(`━━ 3/${STEPS} to ${STEPS}/${STEPS} (push, pull, checkImageScan, tagImage, copyImage, and public push and pull): SKIPPED ━━`));
    say(`  Why: ${stack.dockerSkipped ?? 'no registry'}.`);
    say('  They need the docker CLI and a Docker engine (a running one, or root with dockerd to start a');
    say('  private one), docker-registry and htpasswd: apt-get install docker.io docker-registry apache2-utils');
    return;
  }

  // The demo's own docker commands get their own empty DOCKER_CONFIG: nothing of the user's is used or written.
  const ownConfig = await fs.mkdtemp(path.join(os.tmpdir(), 'kaholo-demo-docker-'));
  cleanups.push(() => fs.rm(ownConfig, { recursive: true, force: true }));
  const dockerEnv = { ...process.env, DOCKER_HOST: stack.engine.env.DOCKER_HOST, DOCKER_CONFIG: ownConfig };

  say();
  say(dim(`Making a local image ${LOCAL_IMAGE} (one layer of ${IMAGE_BYTES / 1024 / 1024} MiB of random bytes, docker import)…`));
  checkNotInterrupted();
  const imageId = await makeImage(dockerEnv, LOCAL_IMAGE, IMAGE_BYTES);
  cleanups.push(() => removeImage(dockerEnv, imageId));
  say(dim(`  ${LOCAL_IMAGE} = ${imageId}`));

  const pushed = (await runStep(plugin, 3, 'pushImgaeToRepo', { repoName: PUSH_REPO, imageName: LOCAL_IMAGE }, settings)) as {
    image: string;
    digest: string;
  };

  say();
  say(dim(`Removing the image locally (docker rmi ${imageId.slice(0, 19)}…), so the pull must fetch it from the registry…`));
  checkNotInterrupted();
  await removeImage(dockerEnv, imageId);
  if (await dockerImageInfo(dockerEnv, pushed.image)) throw new Error(`${pushed.image} is still present locally after docker rmi`);
  say(dim(`  docker image inspect ${pushed.image}: no such image`));

  const pulled = (await runStep(plugin, 4, 'pullImage', { repoName: PUSH_REPO, imageName: TAG }, settings)) as {
    image: string;
    digest: string;
  };
  cleanups.push(() => removeImage(dockerEnv, pulled.image));
  const local = await dockerImageInfo(dockerEnv, pulled.image);

  say();
  say(bold('Round trip'));
  say(`  pushed  ${pushed.image}  ${pushed.digest}`);
  say(`  pulled  ${pulled.image}  ${pulled.digest}`);
  if (pushed.digest !== pulled.digest) throw new Error(`the digests differ: pushed ${pushed.digest}, pulled ${pulled.digest}`);
  say(`  ✔ the manifest digests match`);
  if (local?.id === imageId) say(`  ✔ the pulled image has the id of the image made locally (${imageId.slice(0, 19)}…): same content`);
  else say(`  ! the pulled image id is ${local?.id ?? 'unknown'}, the image made locally was ${imageId}`);

  // The gate: ECR's scan of the pushed image (here the stand-in's, set as a scan on push would leave
  // it), judged at HIGH; the one HIGH finding is accepted for a month with an ignore entry.
  say();
  const digest = seedScan(stack, PUSH_REPO, { digest: pushed.digest, tag: TAG });
  say(dim(`The ECR stand-in now holds a completed basic scan of ${PUSH_REPO}@${digest.slice(0, 19)}… with three findings (HIGH, MEDIUM, LOW)`));
  const until = new Date(Date.now() + 30 * 24 * 3600 * 1000).toISOString().slice(0, 10);
  const scanned = (await runStep(plugin, 5, 'checkImageScan', { repoName: PUSH_REPO, imageName: TAG, failOnSeverity: 'HIGH', ignoreFindings: `CVE-2024-0001 until ${until}` }, settings)) as {
    digest: string;
    passed: boolean;
  };
  if (!scanned.passed || scanned.digest !== pushed.digest) throw new Error(`checkImageScan gave ${JSON.stringify(scanned)}; expected the pushed digest, passed`);

  // Promotion, because the gate passed: one more tag for the image already in the registry, through the ECR API only.
  const tagged = (await runStep(plugin, 6, 'tagImage', { repoName: PUSH_REPO, imageName: TAG, tags: PROMOTED_TAG }, settings)) as {
    digest: string;
    tags: string[];
  };
  say();
  if (tagged.digest !== pushed.digest || !tagged.tags.includes(PROMOTED_TAG)) {
    throw new Error(`tagImage gave ${tagged.digest} with tags ${tagged.tags.join(', ')}; expected ${pushed.digest} tagged ${PROMOTED_TAG}`);
  }
  say(`  ✔ ${PUSH_REPO}:${PROMOTED_TAG} names the pushed digest too (${tagged.tags.join(', ')}), with no docker command and no layer moved`);

  // Promotion: the image goes to the prod account's registry, through a role there, registry to registry.
  const [, prodAccount] = stack.ecr.accountIds;
  const copied = (await runStep(
    plugin,
    7,
    'copyImage',
    {
      repoName: PUSH_REPO,
      imageName: PROMOTED_TAG,
      targetRoleArn: LOCAL_ROLES.partner,
      targetRoleExternalId: LOCAL_ROLES.partnerExternalId,
      createRepository: true,
      targetTags: `${TAG}, prod`,
    },
    settings,
  )) as { digest: string; registry: string; tags: string[] };
  say();
  if (copied.digest !== pushed.digest) throw new Error(`copyImage gave ${copied.digest}; expected the pushed ${pushed.digest}`);
  say(`  ✔ ${copied.registry}/${PUSH_REPO} (account ${prodAccount}) holds the pushed image as ${copied.tags.join(', ')}, same digest, copied registry to registry with no docker command`);

  await publicSteps(plugin, stack, settings, pulled, dockerEnv, cleanups);
}

/**
 * ECR Public: the image pulled in step 4 published for everyone (a public repository made with
 * catalog data), then pulled back with no AWS credentials anywhere, as anyone could.
 */
async function publicSteps(
  plugin: LoadedPlugin,
  stack: LocalStack,
  settings: Record<string, string>,
  pulled: { image: string; digest: string },
  dockerEnv: NodeJS.ProcessEnv,
  cleanups: Array<() => Promise<void>>,
): Promise<void> {
  const published = (await runStep(
    plugin,
    8,
    'pushImgaeToRepo',
    {
      registryType: 'public',
      repoName: PUBLIC_REPO,
      imageName: pulled.image,
      createRepository: true,
      catalogDescription: 'The demo app, for everyone',
      catalogArchitectures: 'x86-64',
      catalogOperatingSystems: 'Linux',
    },
    settings,
  )) as { image: string; digest: string };
  if (published.digest !== pulled.digest) throw new Error(`the public push gave ${published.digest}; expected ${pulled.digest}`);
  say(dim(`  ${published.image} is public: the stand-in's registry gives anyone a token that may pull it`));

  // No keys in the action or the settings, and this shell's own AWS settings left out for this step.
  const restore = isolateAwsEnvironment();
  process.env.AWS_ENDPOINT_URL_ECR_PUBLIC = stack.ecr.env.AWS_ENDPOINT_URL_ECR_PUBLIC;
  let anonymous: { image: string; digest: string };
  try {
    anonymous = (await runStep(plugin, 9, 'pullImage', { registryType: 'public', repoName: PUBLIC_REPO, imageName: published.image }, {})) as { image: string; digest: string };
  } finally {
    restore();
  }
  cleanups.push(() => removeImage(dockerEnv, anonymous.image));
  say();
  if (anonymous.digest !== published.digest) throw new Error(`the anonymous pull gave ${anonymous.digest}; expected ${published.digest}`);
  say(`  ✔ pulled ${anonymous.image} with no credentials at all: the digest published in step 8`);
}

async function main(): Promise<number> {
  const started = Date.now();
  const options = parseArgs(process.argv.slice(2));
  await ensureBuilt(REPO_ROOT, (line) => say(dim(line)));
  const plugin = loadPlugin(REPO_ROOT);
  const agentConfig = path.join(process.env.DOCKER_CONFIG || path.join(os.homedir(), '.docker'), 'config.json');
  const agentConfigBefore = await sha256OfFile(agentConfig);
  const cleanups: Array<() => Promise<void>> = [];
  let cleaning: Promise<void> | undefined;
  const cleanUp = (): Promise<void> =>
    (cleaning ??= (async () => {
      for (const cleanup of cleanups.reverse()) {
        await cleanup().catch((error: unknown) => say(`cleanup: ${error instanceof Error ? error.message : String(error)}`));
      }
    })());
  // Ctrl-C: the step under way ends (a push or pull is stopped by the plugin itself, which logs out
  // and removes its private docker config, then raises the signal again: hence `on`, not `once`),
  // no further step starts, and the cleanup below stops what the demo started. Should that hang,
  // a timer ends the process; the engine and the registry then stop by themselves (their
  // watchdogs notice that this process is gone).
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = signal;
    say(`\n${signal}: ending the current step, then stopping what the demo started…`);
    setTimeout(() => process.exit(130), 60_000).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let failed: unknown;
  try {
    await demo(options, plugin, cleanups);
  } catch (error) {
    failed = error;
  }
  say();
  say(dim('Stopping the registry, the endpoint and any engine the demo started; removing their directories…'));
  await cleanUp();
  const agentConfigAfter = await sha256OfFile(agentConfig);
  if (agentConfigAfter !== agentConfigBefore) {
    say(`! ${agentConfig} changed during the demo`);
    return 1;
  }
  say(dim(`${agentConfig} ${agentConfigBefore === undefined ? 'does not exist and was not created' : 'is unchanged'}.`));
  if (interrupted) {
    say(`Interrupted by ${interrupted}; everything the demo started is stopped.`);
    return interrupted === 'SIGINT' ? 130 : 143;
  }
  if (failed !== undefined) {
    say(`✖ demo failed: ${failed instanceof Error ? failed.message : JSON.stringify(failed)}`);
    return 1;
  }
  say(bold(`Done in ${seconds(Date.now() - started)}.`));
  say('Next: npm run action -- --help (run any method yourself), npm run package (the zip to upload to Kaholo).');
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`demo: ${error instanceof UsageError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  },
);
