/** What every scenario gets, and what it gives back. */

export interface BenchContext {
  /** The CI smoke mode: one short round of everything. */
  readonly quick: boolean;
  /** Rounds per comparison (medians are taken across them). */
  readonly rounds: number;
  /** Scales measurement windows: 1 for the full run, smaller in quick mode. */
  readonly scale: number;
  /** Whether to CPU-profile variants (full run only). */
  readonly profile: boolean;
  log(message: string): void;
}

export interface Goal {
  /** What the issue asks, in words. */
  readonly text: string;
  /** Measured value in the goal's terms. */
  readonly measured: string;
  readonly met: boolean;
}

export interface ScenarioResult {
  readonly id: string;
  readonly title: string;
  /** What was run: processes, load, durations. */
  readonly setup: string;
  /** Markdown table(s) of figures. */
  readonly tables: string[];
  readonly goals: Goal[];
  /** Plain-language notes (explanations, caveats). */
  readonly notes: string[];
  /** Top self-time functions, when profiled. */
  readonly profile?: string;
  /** Raw figures for results/latest.json and the chart. */
  readonly figures: Record<string, unknown>;
}

export interface Scenario {
  readonly id: string;
  readonly title: string;
  run(ctx: BenchContext): Promise<ScenarioResult>;
}

/** ms with µs resolution, for tables. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return '–';
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

export function fixed(value: number, digits = 2): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '–';
}

export function int(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '–';
}

/** A markdown table from a header row and data rows. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
