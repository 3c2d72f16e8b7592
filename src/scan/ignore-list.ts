import { ParamError } from '../errors';
import { shown } from '../kaholo/param-reader';

/** One line of ignoreFindings: a finding name, ignored for good or up to a day. */
export interface IgnoreEntry {
  /** As written (matched without regard to case: CVE ids are written both ways). */
  name: string;
  /** The last day (UTC, YYYY-MM-DD) on which the entry still ignores the finding. */
  until?: string;
}

const ENTRY = /^(\S+)(?:\s+until\s+(\d{4}-\d{2}-\d{2}))?$/i;

/** `CVE-2024-1234` or `CVE-2024-1234 until 2025-06-30`; anything else is an error naming ignoreFindings. */
export function parseIgnoreEntry(text: string): IgnoreEntry {
  const match = ENTRY.exec(text.trim());
  if (!match) {
    throw new ParamError('ignoreFindings', `${shown(text)} is not a finding name, optionally followed by "until YYYY-MM-DD" (such as "CVE-2024-1234 until 2025-06-30")`);
  }
  const [, name, until] = match;
  if (until !== undefined && !isCalendarDay(until)) throw new ParamError('ignoreFindings', `${shown(text)}: ${until} is not a day of the calendar`);
  return until === undefined ? { name } : { name, until };
}

function isCalendarDay(day: string): boolean {
  const date = new Date(`${day}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === day;
}

/** The entries that ignore today, by upper-cased name, and the ones whose day has passed. */
export interface IgnoreState {
  ignores(name: string): boolean;
  expired: IgnoreEntry[];
}

/** An entry ignores through its `until` day (UTC) and no longer from the day after. */
export function ignoreState(entries: IgnoreEntry[], today: string): IgnoreState {
  const active = new Set<string>();
  const expired: IgnoreEntry[] = [];
  for (const entry of entries) {
    if (entry.until !== undefined && entry.until < today) expired.push(entry);
    else active.add(entry.name.toUpperCase());
  }
  return { ignores: (name) => active.has(name.toUpperCase()), expired };
}
