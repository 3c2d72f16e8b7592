/**
 * `npm run action -- <method> [options]`: the Kaholo agent on the command line. It loads the
 * built plugin from config.json's `main` with require() (test/support/kaholo-agent.ts, the same
 * path the tests use), calls the method with `{ method, params }` and the settings, or an
 * autocomplete function with `(query, settings[], params[])`, lets the activity log stream, and
 * prints the result as JSON on stdout. A failed action prints its error on stderr and exits 1; a
 * command-line mistake exits 2. `--help` lists the methods and params from config.json.
 *
 * Nothing here assumes the local endpoint: with real keys it talks to AWS; with
 * AWS_ENDPOINT_URL_ECR set it talks to that endpoint; with --local it starts the local stack for
 * this one call. See scripts/lib/action-args.ts for where values (and vault values) come from.
 */
import { loadPlugin, readManifest, REPO_ROOT, type Manifest, type ParamDeclaration } from '../devkit/agent';
import { LOCAL_KEYS, LOCAL_REGION } from '../devkit/local-ecr';
import { describeValue, parseActionArgs, UsageError, type Invocation, type Source } from '../devkit/action-args';
import { LOCAL_REPOSITORIES, startLocalStack, useLocalEndpoint, type LocalStack } from '../devkit/local-stack';
import { bold, json, withStdoutOnStderr } from '../devkit/printing';

const DOCKER_METHODS = ['pushImgaeToRepo', 'pullImage'];

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
  const stack = await startLocalStack({ docker: needsDocker, progress: (line) => note(`local: ${line}`) });
  useLocalEndpoint(stack);
  stack.ecr.endpoint.createRepositories(LOCAL_REPOSITORIES);
  const { params, settings, settingSources } = invocation;
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
  if (stack.engine?.started) note(`local: private Docker engine at ${stack.engine.env.DOCKER_HOST} (it holds no images: a push needs one made there first)`);
  return stack;
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
    note(`── result of ${target.name} (${Date.now() - started} ms) ──`);
    process.stdout.write(`${json(result)}\n`);
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    note(`✖ ${target.name} failed: ${message}`);
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
