/** A one-line terminal progress bar: step, loss or other fields, steps per second and ETA. */
export class ProgressBar {
  private readonly _start = Date.now();
  private _lastDraw = 0;

  constructor(
    private readonly _total: number,
    private readonly _label: string,
    private readonly _stream: NodeJS.WriteStream = process.stderr,
  ) {}

  /** Redraws at most 10 times a second, and always for the last step. */
  update(done: number, fields: Record<string, string | number> = {}): void {
    const now = Date.now();
    if (done < this._total && now - this._lastDraw < 100) return;
    this._lastDraw = now;
    const elapsed = (now - this._start) / 1000;
    const rate = done / Math.max(elapsed, 1e-9);
    const eta = rate > 0 ? (this._total - done) / rate : Number.POSITIVE_INFINITY;
    const width = 24;
    const filled = Math.round((width * done) / Math.max(this._total, 1));
    const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
    const extra = Object.entries(fields)
      .map(([k, v]) => `${k} ${typeof v === 'number' ? formatNumber(v) : v}`)
      .join('  ');
    const line = `${this._label} [${bar}] ${done}/${this._total}  ${extra}  ${rate.toFixed(2)}/s  ETA ${formatSeconds(eta)}`;
    if (this._stream.isTTY) this._stream.write(`\r${line}\x1b[K`);
    else this._stream.write(`${line}\n`);
  }

  /** Ends the line. */
  finish(): void {
    if (this._stream.isTTY) this._stream.write('\n');
  }
}

function formatNumber(v: number): string {
  return Math.abs(v) >= 100 || Number.isInteger(v) ? String(Math.round(v * 100) / 100) : v.toPrecision(4);
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  const m = Math.floor(s / 60);
  const sec = Math.floor(s % 60);
  return m >= 60
    ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`
    : `${m}:${String(sec).padStart(2, '0')}`;
}
