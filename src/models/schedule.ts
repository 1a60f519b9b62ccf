/**
 * Noise schedules for DDPM-style diffusion: the cosine schedule of iDDPM (what ReCogDrive trains
 * with, T = 100, s = 0.008), and diffusers' `linear` and `scaled_linear` schedules.
 *
 * All arrays are float32 (as the PyTorch buffers are). Where ReCogDrive's code computes in float64
 * (numpy) and casts, we do the same; `torch.cumprod` on a CPU float32 tensor accumulates in float64
 * and rounds each output to float32, so `alphasCumprod` does that too (a float32 running product
 * differs by up to 1.8e-7; see golden/dit/README.md §5.1).
 */

export type BetaScheduleKind = 'cosine' | 'linear' | 'scaled_linear';

export interface NoiseScheduleConfig {
  /** Which beta schedule. ReCogDrive: `cosine`. */
  kind: BetaScheduleKind;
  /** Number of training timesteps T. ReCogDrive: 100. */
  numTrainTimesteps: number;
  /** Cosine offset s (iDDPM). ReCogDrive: 0.008. */
  cosineS: number;
  /** beta_1 of the linear schedules (diffusers default 1e-4). */
  betaStart: number;
  /** beta_T of the linear schedules (diffusers default 0.02). */
  betaEnd: number;
  /** Upper clip of the cosine betas (iDDPM / ReCogDrive: 0.999). */
  maxBeta: number;
}

export const DEFAULT_NOISE_SCHEDULE: Readonly<NoiseScheduleConfig> = Object.freeze({
  kind: 'cosine',
  numTrainTimesteps: 100,
  cosineS: 0.008,
  betaStart: 1e-4,
  betaEnd: 0.02,
  maxBeta: 0.999,
});

/** The schedule arrays, float32, indexed by training timestep t = 0..T-1. */
export interface NoiseSchedule {
  readonly config: Readonly<NoiseScheduleConfig>;
  /** β_t */
  readonly betas: Float32Array;
  /** α_t = 1 − β_t */
  readonly alphas: Float32Array;
  /** ᾱ_t = ∏_{s≤t} α_s */
  readonly alphasCumprod: Float32Array;
  /** ᾱ_{t−1} with ᾱ_{−1} = 1 */
  readonly alphasCumprodPrev: Float32Array;
  /** √ᾱ_t */
  readonly sqrtAlphasCumprod: Float32Array;
  /** √(1 − ᾱ_t) */
  readonly sqrtOneMinusAlphasCumprod: Float32Array;
}

const f32 = Math.fround;

/** numpy.linspace(start, stop, num) in float64, bit-for-bit (step multiply, last element = stop). */
export function linspace(start: number, stop: number, num: number): Float64Array {
  const out = new Float64Array(num);
  if (num === 1) {
    out[0] = start;
    return out;
  }
  const step = (stop - start) / (num - 1);
  for (let i = 0; i < num; i++) out[i] = i * step + start;
  out[num - 1] = stop;
  return out;
}

/**
 * iDDPM cosine betas exactly as ReCogDrive's `cosine_beta_schedule` (numpy float64, then float32):
 * f(i) = cos²((x_i/(T+1) + s)/(1 + s)·π/2) with x = linspace(0, T+1, T+1), normalised by f(0);
 * β_t = clip(1 − f(t+1)/f(t), 0, maxBeta).
 */
export function cosineBetas(T: number, s = 0.008, maxBeta = 0.999): Float32Array {
  const steps = T + 1;
  const x = linspace(0, steps, steps);
  const f = new Float64Array(steps);
  for (let i = 0; i < steps; i++) {
    const c = Math.cos(((x[i]! / steps + s) / (1 + s)) * Math.PI * 0.5);
    f[i] = c * c;
  }
  const f0 = f[0]!;
  for (let i = 0; i < steps; i++) f[i] = f[i]! / f0;
  const betas = new Float32Array(T);
  for (let t = 0; t < T; t++) {
    const b = 1 - f[t + 1]! / f[t]!;
    betas[t] = Math.min(Math.max(b, 0), maxBeta);
  }
  return betas;
}

/** diffusers `linear`: torch.linspace(betaStart, betaEnd, T, dtype=float32). */
export function linearBetas(T: number, betaStart = 1e-4, betaEnd = 0.02): Float32Array {
  return torchLinspaceF32(betaStart, betaEnd, T);
}

/** diffusers `scaled_linear`: torch.linspace(√betaStart, √betaEnd, T, float32) ** 2. */
export function scaledLinearBetas(T: number, betaStart = 0.00085, betaEnd = 0.012): Float32Array {
  const r = torchLinspaceF32(Math.sqrt(betaStart), Math.sqrt(betaEnd), T);
  for (let i = 0; i < T; i++) r[i] = f32(r[i]! * r[i]!);
  return r;
}

/** torch.linspace in float32: start + i·step for the first half, end − (n−1−i)·step for the rest. */
function torchLinspaceF32(start: number, end: number, n: number): Float32Array {
  const out = new Float32Array(n);
  if (n === 1) {
    out[0] = start;
    return out;
  }
  const s = f32(start);
  const e = f32(end);
  const step = f32((e - s) / (n - 1));
  const half = Math.floor(n / 2);
  for (let i = 0; i < n; i++) out[i] = i < half ? f32(s + f32(step * i)) : f32(e - f32(step * (n - 1 - i)));
  return out;
}

/** Validates a schedule config; errors say which field to change. */
export function validateNoiseScheduleConfig(c: NoiseScheduleConfig): void {
  const kinds: BetaScheduleKind[] = ['cosine', 'linear', 'scaled_linear'];
  if (!kinds.includes(c.kind)) throw new Error(`Invalid schedule kind ${JSON.stringify(c.kind)}. Should be one of ${kinds.join(', ')}.`);
  if (!Number.isInteger(c.numTrainTimesteps) || c.numTrainTimesteps < 1) {
    throw new Error(`Invalid numTrainTimesteps: ${c.numTrainTimesteps}. Should be an integer >= 1.`);
  }
  if (!(c.cosineS >= 0)) throw new Error(`Invalid cosineS: ${c.cosineS}. Should be >= 0.`);
  if (!(c.betaStart > 0 && c.betaEnd > 0 && c.betaStart <= c.betaEnd && c.betaEnd < 1)) {
    throw new Error(`Invalid betaStart/betaEnd: ${c.betaStart}/${c.betaEnd}. Should satisfy 0 < betaStart <= betaEnd < 1.`);
  }
  if (!(c.maxBeta > 0 && c.maxBeta < 1)) throw new Error(`Invalid maxBeta: ${c.maxBeta}. Should be in (0, 1).`);
}

/** Builds the float32 schedule arrays from a (partial) config. */
export function makeNoiseSchedule(config: Partial<NoiseScheduleConfig> = {}): NoiseSchedule {
  const c: NoiseScheduleConfig = { ...DEFAULT_NOISE_SCHEDULE, ...config };
  validateNoiseScheduleConfig(c);
  const T = c.numTrainTimesteps;
  const betas =
    c.kind === 'cosine'
      ? cosineBetas(T, c.cosineS, c.maxBeta)
      : c.kind === 'linear'
        ? linearBetas(T, c.betaStart, c.betaEnd)
        : scaledLinearBetas(T, c.betaStart, c.betaEnd);
  const alphas = new Float32Array(T);
  const alphasCumprod = new Float32Array(T);
  const alphasCumprodPrev = new Float32Array(T);
  const sqrtAlphasCumprod = new Float32Array(T);
  const sqrtOneMinusAlphasCumprod = new Float32Array(T);
  let acc = 1; // float64 accumulator, as torch.cumprod on CPU
  for (let t = 0; t < T; t++) {
    alphas[t] = f32(1 - betas[t]!);
    alphasCumprodPrev[t] = t === 0 ? 1 : alphasCumprod[t - 1]!;
    acc *= alphas[t]!;
    alphasCumprod[t] = acc;
    sqrtAlphasCumprod[t] = Math.sqrt(alphasCumprod[t]!);
    sqrtOneMinusAlphasCumprod[t] = Math.sqrt(f32(1 - alphasCumprod[t]!));
  }
  return Object.freeze({ config: Object.freeze(c), betas, alphas, alphasCumprod, alphasCumprodPrev, sqrtAlphasCumprod, sqrtOneMinusAlphasCumprod });
}

/**
 * The extra DDPM buffers that ReCogDrive registers (`ddpm_*`), float32 with the code's operation
 * order, so that a saved checkpoint loads into the PyTorch planner with `strict=True`.
 */
export function ddpmBuffers(s: NoiseSchedule): Record<string, Float32Array> {
  const T = s.betas.length;
  const recip = new Float32Array(T);
  const recipm1 = new Float32Array(T);
  const variance = new Float32Array(T);
  const logvar = new Float32Array(T);
  const mu1 = new Float32Array(T);
  const mu2 = new Float32Array(T);
  for (let t = 0; t < T; t++) {
    const ac = s.alphasCumprod[t]!;
    const acp = s.alphasCumprodPrev[t]!;
    const b = s.betas[t]!;
    const oneMinusAc = f32(1 - ac);
    recip[t] = Math.sqrt(f32(1 / ac));
    recipm1[t] = Math.sqrt(f32(f32(1 / ac) - 1));
    variance[t] = f32(f32(b * f32(1 - acp)) / oneMinusAc);
    logvar[t] = Math.log(Math.max(variance[t]!, 1e-20));
    mu1[t] = f32(f32(b * f32(Math.sqrt(acp))) / oneMinusAc);
    mu2[t] = f32(f32(f32(1 - acp) * f32(Math.sqrt(s.alphas[t]!))) / oneMinusAc);
  }
  return {
    ddpm_betas: s.betas,
    ddpm_alphas: s.alphas,
    ddpm_alphas_cumprod: s.alphasCumprod,
    ddpm_alphas_cumprod_prev: s.alphasCumprodPrev,
    ddpm_sqrt_alphas_cumprod: s.sqrtAlphasCumprod,
    ddpm_sqrt_one_minus_alphas_cumprod: s.sqrtOneMinusAlphasCumprod,
    ddpm_sqrt_recip_alphas_cumprod: recip,
    ddpm_sqrt_recipm1_alphas_cumprod: recipm1,
    ddpm_var: variance,
    ddpm_logvar_clipped: logvar,
    ddpm_mu_coef1: mu1,
    ddpm_mu_coef2: mu2,
  };
}
