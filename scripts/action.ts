/**
 * `npm run action -- <method> [options]`: the Kaholo agent on the command line. It loads the
 * built plugin from config.json's `main` with require() (devkit/agent-runner.js, the runner the tests use), calls the method with `{ method, params }` and the settings, or an
 * autocomplete function with `(query, settings[], params[])`, lets the activity log stream, and
 * prints the result as JSON on stdout. A failed action prints its error on stderr and exits 1; a
 * command-line mistake exits 2. `--help` lists the methods and params from config.json.
 *
 * Nothing here assumes the local endpoint: with real keys it talks to AWS; with
 * AWS_ENDPOINT_URL_ECR set it talks to that endpoint; with --local it starts the local stack for
 * this one call. See devkit/action-args.ts for where values (and vault values) come from.
 */
import { loadPlugin, readManifest, REPO_ROOT, type Manifest, type ParamDeclaration } from '../devkit/agent';
import { LOCAL_KEYS, LOCAL_REGION, LOCAL_ROLES } from '../devkit/local-ecr';
import { describeValue, parseActionArgs, UsageError, type Invocation, type Source } from '../devkit/action-args';
import { LOCAL_REPOSITORIES, LOCAL_SCAN_FINDINGS, makeLocalImage, seedImageToCopy, seedRegistry, seedScan, startLocalStack, useLocalEndpoint, type LocalStack } from '../devkit/local-stack';
import { removeImage } from '../devkit/images';
import { ensureBuilt } from './build';
import { bold, json, withStdoutOnStderr } from '../devkit/printing';

const DOCKER_METHODS = ['pushImgaeToRepo', 'pullImage'];
/** Methods that need registries (two accounts) but no engine. */
const REGISTRY_METHODS = ['copyImage'];

function note(line: string): void {
  process.stderr.write(`${line}\n`);
}

function printValues(
  title: string,
  values: Record<string, unknown>,
  sources: Record<string, Source>,
  declarations: ParamDeclaration[],
): void {
  const names = Object.keys(values);
  if (names.length === 0) {
    note(`  ${title}: (none)`);
    return;
  }
  note(`  ${title}:`);
  for (const name of names) {
    note(`    ${name} = ${describeValue(declarations.find((d) => d.name === name), values[name], sources[name])}`);
  }
}

/** --local: start the stack, seed repositories, and give the call the local keys and region it lacks. */
async function startLocal(invocation: Invocation): Promise<LocalStack> {
  const needsDocker = invocation.target.kind === 'method' && DOCKER_METHODS.includes(invocation.target.name);
  const copies = invocation.target.kind === 'method' && REGISTRY_METHODS.includes(invocation.target.name);
  const stack = await startLocalStack({ docker: needsDocker, registries: copies, accounts: copies ? 2 : 1, progress: (line) => note(`local: ${line}`) });
  useLocalEndpoint(stack);
  const { params, settings, settingSources } = invocation;
  const repoName = typeof params.repoName === 'string' ? params.repoName : '';
  stack.ecr.endpoint.createRepositories([...new Set([...LOCAL_REPOSITORIES, ...(repoName ? [repoName] : [])])]);
  if (copies) await giveImageToCopy(stack, repoName, params);
  const given = (name: string): boolean => (params[name] ?? '') !== '' || (settings[name] ?? '') !== '';
  if (!given('accessKeyId') && !given('secretAccessKey')) {
    settings.accessKeyId = LOCAL_KEYS.accessKeyId;
    settings.secretAccessKey = LOCAL_KEYS.secretAccessKey;
    settingSources.accessKeyId = settingSources.secretAccessKey = '--local';
  }
  if (!given('region')) {
    settings.region = LOCAL_REGION;
    settingSources.region = '--local';
  }
  note(`local: ECR endpoint ${stack.ecr.endpoint.url}, registry ${stack.ecr.registries[0]?.host ?? '(none: tokens point nowhere)'}`);
  note(`local: repositories ${LOCAL_REPOSITORIES.join(', ')} in registry ${stack.ecr.endpoint.defaultRegistryId}`);
  if (needsDocker && !stack.engine) note(`local: no Docker engine (${stack.dockerSkipped ?? 'unknown reason'}): ${invocation.target.name} will fail`);
  if (invocation.target.name === 'checkImageScan') giveScanToCheck(stack, repoName, params.imageName);
  if (stack.engine) {
    note(`local: Docker engine at ${stack.engine.env.DOCKER_HOST}${stack.engine.started ? ' (a private one, started for this call)' : ''}`);
    await giveImageToWorkWith(stack, invocation.target.name, repoName, params.imageName);
  }
  return stack;
}

/**
 * --local with push or pull: a small image for it to work with, named in the output. A push finds
 * the local image its imageName means (a bare word X is `<repoName>:X`); a pull finds the tag in the
 * local registry. Both are made only when the name is one; the stack removes them at the end.
 */
async function giveImageToWorkWith(stack: LocalStack, method: string, repoName: string, imageName: unknown): Promise<void> {
  if (typeof imageName !== 'string' || imageName === '' || imageName.includes('@') || repoName === '') return;
  const bareWord = !/[:/]/.test(imageName);
  if (method === 'pushImgaeToRepo') {
    const local = bareWord ? `${repoName}:${imageName}` : imageName;
    if (await makeLocalImage(stack, local)) note(`local: made ${local} (1 MiB of random bytes) in the engine for this push; removed at the end`);
    else note(`local: pushing ${local}, which the engine already holds`);
  } else if (method === 'pullImage') {
    const tag = bareWord ? imageName : (/:([^:/]+)$/.exec(imageName)?.[1] ?? 'latest');
    const reference = await seedRegistry(stack, repoName, tag);
    note(`local: put ${reference} (1 MiB) in the local registry for this pull; removed from the engine at the end`);
  }
}

/** --local with checkImageScan: the image imageName names gets a completed scan with a few findings. */
function giveScanToCheck(stack: LocalStack, repoName: string, imageName: unknown): void {
  if (typeof imageName !== 'string' || imageName === '' || repoName === '') return;
  const digest = /@(sha256:[a-f0-9]{64})$/.exec(imageName)?.[1];
  const tag = digest !== undefined ? undefined : /^[^:/@]+$/.test(imageName) ? imageName : (/:([^:/@]+)$/.exec(imageName)?.[1] ?? 'latest');
  const scanned = seedScan(stack, repoName, { digest, tag });
  const severities = LOCAL_SCAN_FINDINGS.map((finding) => finding.severity).join(', ');
  note(`local: gave ${repoName}${tag !== undefined ? `:${tag}` : ''} (${scanned.slice(0, 19)}…) a completed basic scan with ${LOCAL_SCAN_FINDINGS.length} findings (${severities})`);
}

/**
 * --local with copyImage: the target repository in both accounts, and in the source an image for
 * it to copy (an index of two platforms and a signature, written straight to the registry), when
 * imageName is a tag.
 */
async function giveImageToCopy(stack: LocalStack, repoName: string, params: Record<string, unknown>): Promise<void> {
  const target = typeof params.targetRepoName === 'string' && params.targetRepoName !== '' ? params.targetRepoName : repoName;
  const [home, second] = stack.ecr.accountIds;
  if (target !== '' && ![...LOCAL_REPOSITORIES, repoName].includes(target)) stack.ecr.endpoint.createRepositories([target], home);
  if (target !== '') stack.ecr.endpoint.createRepositories([target], second);
  note(`local: a second account ${stack.ecr.accountIds[1]} (registry ${stack.ecr.registries[1]?.host ?? 'none'}); the role ${LOCAL_ROLES.partner} is in it (external id in KAHOLO_PARAM_targetRoleExternalId)`);
  const imageName = params.imageName;
  if (typeof imageName !== 'string' || repoName === '' || !/^[\w][\w.-]*$/.test(imageName)) return;
  const digest = await seedImageToCopy(stack, repoName, imageName);
  note(`local: put ${stack.ecr.registries[0]?.host ?? ''}/${repoName}:${imageName} (${digest.slice(0, 19)}…: two platforms of 1 MiB and a signature) in the source registry`);
}

async function removePulled(stack: LocalStack, result: unknown): Promise<void> {
  const image = (result as { image?: unknown } | undefined)?.image;
  if (stack.engine && typeof image === 'string') await removeImage(stack.engine.env, image);
}

function printHeader(manifest: Manifest, invocation: Invocation): void {
  const { target } = invocation;
  if (target.kind === 'method') {
    note(bold(`▶ ${target.name} (${target.method.viewName})`, process.stderr));
    printValues('params', invocation.params, invocation.paramSources, target.method.params);
  } else {
    note(bold(`▶ ${target.name} (autocomplete) query ${JSON.stringify(invocation.query)}`, process.stderr));
    printValues('params', invocation.params, invocation.paramSources, target.methods.flatMap((m) => m.params));
  }
  printValues('settings', invocation.settings, invocation.settingSources, manifest.settings);
  const endpoint = process.env.AWS_ENDPOINT_URL_ECR;
  if (target.kind === 'method') {
    note(`  ECR endpoint: ${endpoint ? `${endpoint} (AWS_ENDPOINT_URL_ECR)` : "AWS (the SDK's endpoint for the region)"}`);
  }
  note('── activity log ──');
}

async function main(): Promise<number> {
  const manifest = readManifest(REPO_ROOT);
  let invocation: Invocation;
  try {
    const parsed = parseActionArgs(process.argv.slice(2), manifest);
    if ('help' in parsed) {
      process.stdout.write(parsed.help);
      return 0;
    }
    invocation = parsed.invocation;
  } catch (error) {
    if (error instanceof UsageError) {
      note(`action: ${error.message}`);
      return 2;
    }
    throw error;
  }
  for (const warning of invocation.warnings) note(`action: warning: ${warning}`);
  await ensureBuilt(REPO_ROOT, (line) => note(`action: ${line}`));

  const { target } = invocation;
  let stack: LocalStack | undefined;
  const started = Date.now();
  try {
    if (invocation.local) stack = await startLocal(invocation);
    printHeader(manifest, invocation);
    const plugin = loadPlugin(REPO_ROOT);
    const call = (): Promise<unknown> =>
      target.kind === 'method'
        ? plugin.run(target.name, invocation.params, invocation.settings)
        : plugin.autocomplete(target.name, invocation.query, invocation.settings, invocation.params);
    const result = invocation.logToStderr ? await withStdoutOnStderr(call) : await call();
    // What a pull fetched into the engine goes with the stack: it was only there to show the pull.
    if (stack && target.name === 'pullImage') await removePulled(stack, result);
    note(`── result of ${target.name} (${Date.now() - started} ms) ──`);
    process.stdout.write(`${json(result)}\n`);
    return 0;
  } catch (error) {
    // As the agent shows a failed action: String(error).
    note(`✖ ${target.name} failed: ${String(error)}`);
    return 1;
  } finally {
    await stack?.stop();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    note(`action: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  },
);
