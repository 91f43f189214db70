const fmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** Formats an integer with thousands separators (1,234). */
export const n0 = (x: number) => fmt.format(x);

/**
 * A one-line progress bar on stderr: `\r[#####.....] 4,200/10,000 1,234/s label`. On a terminal the
 * line is redrawn at most every 100 ms; otherwise (logs, CI) a line is printed at every 10 %.
 */
export class ProgressBar {
  private readonly started = performance.now();
  private lastDraw = 0;
  private lastDecile = -1;
  private readonly tty = Boolean(process.stderr.isTTY);

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly width = 30,
  ) {}

  update(done: number, extra = ''): void {
    const now = performance.now();
    if (this.tty) {
      if (now - this.lastDraw < 100 && done < this.total) return;
      this.lastDraw = now;
      process.stderr.write(`\r${this.line(done, now, extra)}\x1b[K`);
    } else {
      const decile = Math.floor((done / Math.max(1, this.total)) * 10);
      if (decile === this.lastDecile) return;
      this.lastDecile = decile;
      process.stderr.write(`${this.line(done, now, extra)}\n`);
    }
  }

  /** Draws the final state and ends the line. */
  finish(done: number, extra = ''): void {
    const line = this.line(done, performance.now(), extra);
    process.stderr.write(this.tty ? `\r${line}\x1b[K\n` : `${line}\n`);
  }

  private line(done: number, now: number, extra: string): string {
    const filled = this.total > 0 ? Math.min(this.width, Math.round((done / this.total) * this.width)) : 0;
    const rate = done / Math.max(0.001, (now - this.started) / 1000);
    const bar = `${'#'.repeat(filled)}${'.'.repeat(this.width - filled)}`;
    return `[${bar}] ${n0(done)}/${n0(this.total)} ${n0(rate)}/s ${this.label}${extra ? ` ${extra}` : ''}`;
  }
}
