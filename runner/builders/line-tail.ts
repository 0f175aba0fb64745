/** The last lines of a build's output, quoted in its failure message; the log itself goes to the caller's onLine. */
export class LineTail {
  private readonly lines: string[] = [];
  constructor(private readonly size: number) {}
  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.size) this.lines.shift();
  }
  snapshot(): string[] {
    return [...this.lines];
  }
}
