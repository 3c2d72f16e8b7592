/**
 * The IAM policies the documentation gives, read from its Markdown: in one section, each ```json
 * block is a policy, and the line before it names what it is for: the method (in backticks, as
 * config.json names it), for Copy Image "the source side" or "the target side", and which actions
 * are needed only in some cases ("`ecr:StartImageScan` only with `startScan`", "… only under
 * enhanced scanning").
 */

export interface DocumentedPolicy {
  /** Where it was read, for messages: the file and the line before the block. */
  where: string;
  method: string;
  side?: 'source' | 'target';
  /** Every action an Allow statement names. */
  actions: string[];
  /** Actions the line says are needed only in a case: action → the case ("createRepository", "enhanced scanning"). */
  onlyWhen: Map<string, string>;
}

/** `text`'s section under `## <heading>`, up to the next heading of that level. */
export function markdownSection(text: string, heading: string): string {
  const start = text.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`no "## ${heading}" section`);
  const end = text.indexOf('\n## ', start + 1);
  return text.slice(start, end < 0 ? undefined : end);
}

/** The policies in `section` (of `file`, for messages), each for one of `methods`. */
export function documentedPolicies(section: string, file: string, methods: readonly string[]): DocumentedPolicy[] {
  const policies: DocumentedPolicy[] = [];
  const blocks = /([^\n]*)\n+```json\n([\s\S]*?)\n```/g;
  for (const [, line, json] of section.matchAll(blocks)) {
    const where = `${file}: ${line.trim()}`;
    const method = [...line.matchAll(/`([^`]+)`/g)].map((m) => m[1]).find((name) => methods.includes(name));
    if (method === undefined) throw new Error(`${where}: names no method in backticks before its policy`);
    const side = /\bthe (source|target) side\b/.exec(line)?.[1] as 'source' | 'target' | undefined;
    policies.push({ where, method, ...(side ? { side } : {}), actions: allowedActions(json, where), onlyWhen: casesOf(line) });
  }
  return policies;
}

function allowedActions(json: string, where: string): string[] {
  let policy: { Statement?: Array<{ Effect?: string; Action?: string | string[] }> };
  try {
    policy = JSON.parse(json) as typeof policy;
  } catch (error) {
    throw new Error(`${where}: its policy is not JSON (${(error as Error).message})`);
  }
  const actions = (policy.Statement ?? []).filter((s) => s.Effect === 'Allow').flatMap((s) => (Array.isArray(s.Action) ? s.Action : s.Action !== undefined ? [s.Action] : []));
  if (actions.length === 0) throw new Error(`${where}: its policy allows nothing`);
  return [...new Set(actions)];
}

/** "`a:X` and `a:Y` only with `param`, `a:Z` only under enhanced scanning" → X and Y: param, Z: enhanced scanning. */
function casesOf(line: string): Map<string, string> {
  const cases = new Map<string, string>();
  const clause = /((?:`[^`]+`(?:,\s*|\s+and\s+)?)+)\s+only\s+(?:with|under)\s+(`[^`]+`|[^,;:`]+)/g;
  for (const [, named, when] of line.matchAll(clause)) {
    for (const [, action] of named.matchAll(/`([^`]+:[^`]+)`/g)) cases.set(action, when.replace(/`/g, '').trim());
  }
  return cases;
}
