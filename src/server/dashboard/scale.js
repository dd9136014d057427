// @ts-check
// Axis arithmetic for the charts, apart from the DOM so that tests can run it.

/** Tick values at round steps from 0 to the first one at or above `max`. @param {number} max */
export function ticksUpTo(max) {
  const step = 10 ** Math.floor(Math.log10(max / 4 || 1));
  const nice = [1, 2, 5, 10].map((factor) => factor * step).find((candidate) => max / candidate <= 5) ?? step * 10;
  const count = Math.max(1, Math.ceil(max / nice - 1e-9));
  return Array.from({ length: count + 1 }, (_, index) => index * nice);
}
