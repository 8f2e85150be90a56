/** ANSI colour, only for a terminal and never when NO_COLOR is set (https://no-color.org). */
export const palette = (enabled: boolean) => {
  const wrap = (code: number) => (text: string) => (enabled ? `\u001b[${code}m${text}\u001b[0m` : text);
  return { green: wrap(32), red: wrap(31), yellow: wrap(33), dim: wrap(2), bold: wrap(1), cyan: wrap(36) };
};
export type Palette = ReturnType<typeof palette>;

export const colourWanted = (stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv) =>
  Boolean(stream.isTTY) && env.NO_COLOR === undefined;

/** Simulated time, as a person reads it: 42 min, 7 s, 0 s. */
export const simulated = (ms: number) => {
  if (ms >= 3_600_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  if (ms >= 60_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 1000)} s`;
};

/** Dollars to three significant figures, never in exponent form: $0.0107, $0.00000412, $12.40. */
export const usd = (value: number) => {
  if (value === 0) return '$0';
  return `$${value.toFixed(Math.min(20, Math.max(2, 2 - Math.floor(Math.log10(Math.abs(value))))))}`;
};
