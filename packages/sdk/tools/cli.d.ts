/** Usage text of `face-stylizer assets`. */
export const USAGE: string;
/** `face-stylizer assets <dir> ...`; returns the exit code. */
export function runAssets(args: string[], log?: (line: string) => void): number;
