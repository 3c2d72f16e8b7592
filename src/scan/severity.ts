/**
 * ECR's finding severities, most severe first. Basic scanning uses these six;
 * enhanced scanning (Amazon Inspector) says UNTRIAGED where the vendor has not
 * rated a vulnerability yet, which is read as UNDEFINED here, as is any
 * severity this plugin does not know: a finding is never dropped for its label.
 */
export const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL', 'UNDEFINED'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** failOnSeverity: the least severe finding that fails the gate, or NONE (report only). */
export type Threshold = Severity | 'NONE';
export const THRESHOLDS: readonly Threshold[] = [...SEVERITIES, 'NONE'];

export function severityOf(text: string | undefined): Severity {
  const upper = text?.trim().toUpperCase();
  return SEVERITIES.find((severity) => severity === upper) ?? 'UNDEFINED';
}

/** 0 for CRITICAL, 5 for UNDEFINED: sorting by it puts the most severe first. */
export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

/** Whether a finding of `severity` fails a gate at `threshold`. */
export function failsAt(severity: Severity, threshold: Threshold): boolean {
  return threshold !== 'NONE' && severityRank(severity) <= severityRank(threshold);
}

/** A count of every severity, all present (0 where none), in order. */
export function zeroCounts(): Record<Severity, number> {
  return Object.fromEntries(SEVERITIES.map((severity) => [severity, 0])) as Record<Severity, number>;
}
