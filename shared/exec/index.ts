export { runCommand, type RunCommandOptions, type CommandResult } from './run-command.ts';
export type { LineListener, OutputStream } from './output-lines.ts';
