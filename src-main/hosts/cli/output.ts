// What the CLI prints to stdout: one line (or block) at a time, always ending in a newline.
export function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : text + '\n');
}
