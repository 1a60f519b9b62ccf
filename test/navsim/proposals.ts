/** Test helper: deterministic ego-frame proposals for scoring tests. */
import { Rng } from '../../src/core/rng.js';

/** G ego-frame proposals around a straight drive at speed v (deterministic). */
export function proposals(G: number, v: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const out = new Float64Array(G * 24);
  for (let g = 0; g < G; g++) {
    const speed = v * rng.uniform(0.3, 1.3);
    const curv = rng.uniform(-0.02, 0.02);
    for (let k = 0; k < 8; k++) {
      const s = speed * 0.5 * (k + 1);
      const h = curv * s;
      out[g * 24 + 3 * k] = Math.abs(curv) < 1e-9 ? s : Math.sin(h) / curv;
      out[g * 24 + 3 * k + 1] = Math.abs(curv) < 1e-9 ? 0 : (1 - Math.cos(h)) / curv;
      out[g * 24 + 3 * k + 2] = h;
    }
  }
  return out;
}

