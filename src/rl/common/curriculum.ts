/**
 * A traffic-density curriculum on the same maps (the MetaDrive IL+RL recipe: 0.05 → 0.1 → 0.2).
 * Each stage has a density; the curriculum advances to the next stage when the stage has run
 * `minTimesteps` and either `untilTimesteps` is reached or the success rate of the stage's last
 * `window` episodes reaches `successThreshold` (whichever is configured first). The density is
 * applied to the environments' next resets (`setTrafficDensity`).
 */
import { defineConfig } from '../../core/config.js';

export interface CurriculumStage {
  density: number;
  /** Advance once the run has taken this many timesteps in total (null: not by steps). */
  untilTimesteps: number | null;
  /** Advance once this share of the stage's last `window` episodes succeeded (null: not by success). */
  successThreshold: number | null;
  /** Never advance before this many timesteps in the stage. */
  minTimesteps: number;
}

export const CURRICULUM_STAGE = defineConfig<CurriculumStage>('CurriculumStage', {
  density: { type: 'number', min: 0, max: 1, default: 0.1, doc: 'Traffic density of the stage.' },
  untilTimesteps: { type: 'integer', min: 0, nullable: true, default: null, doc: 'Advance when the run reaches this many timesteps (null: not by steps).' },
  successThreshold: { type: 'number', min: 0, max: 1, nullable: true, default: null, doc: "Advance when this share of the stage's last episodes succeeded (null: not by success)." },
  minTimesteps: { type: 'integer', min: 0, default: 0, doc: 'Timesteps the stage runs at least.' },
});

export interface CurriculumState {
  stage: number;
  stageStart: number;
  recent: number[];
}

/** Anything whose traffic density can be set for its next resets (`VectorEnv`). */
export interface DensityTarget {
  setTrafficDensity(density: number): void;
}

export class TrafficCurriculum {
  readonly stages: readonly Readonly<CurriculumStage>[];
  stage = 0;
  private stageStart = 0;
  private recent: number[] = [];

  constructor(stages: readonly Partial<CurriculumStage>[], readonly window = 50) {
    if (stages.length === 0) throw new RangeError('TrafficCurriculum: at least one stage is needed.');
    this.stages = stages.map((s) => CURRICULUM_STAGE.resolve(s));
  }

  /** Parses `0.05,0.1,0.2` (equal shares of `totalTimesteps`) or `0.05@0.8,0.1@0.8,0.2` (advance at 80 % success). */
  static parse(spec: string, totalTimesteps: number, window = 50): TrafficCurriculum {
    const parts = spec.split(',').map((p) => p.trim()).filter(Boolean);
    const stages = parts.map((p, i) => {
      const [d, succ] = p.split('@');
      const density = Number(d);
      const last = i === parts.length - 1;
      if (succ !== undefined) return { density, successThreshold: last ? null : Number(succ), untilTimesteps: null, minTimesteps: 0 };
      return { density, untilTimesteps: last ? null : Math.round(((i + 1) * totalTimesteps) / parts.length), successThreshold: null, minTimesteps: 0 };
    });
    return new TrafficCurriculum(stages, window);
  }

  get density(): number {
    return this.stages[this.stage]!.density;
  }

  /** Applies the current stage's density. */
  apply(target: DensityTarget): void {
    target.setTrafficDensity(this.density);
  }

  /** Records a finished episode (success or not). */
  recordEpisode(success: boolean): void {
    this.recent.push(success ? 1 : 0);
    if (this.recent.length > this.window) this.recent.shift();
  }

  /** Success rate of the stage's recent episodes (NaN before any). */
  get recentSuccess(): number {
    return this.recent.length ? this.recent.reduce((a, b) => a + b, 0) / this.recent.length : NaN;
  }

  /** Advances when the stage's condition holds; returns true if the stage changed (then re-`apply`). */
  update(timesteps: number): boolean {
    const s = this.stages[this.stage]!;
    if (this.stage === this.stages.length - 1) return false;
    if (timesteps - this.stageStart < s.minTimesteps) return false;
    const bySteps = s.untilTimesteps !== null && timesteps >= s.untilTimesteps;
    const bySuccess = s.successThreshold !== null && this.recent.length >= this.window && this.recentSuccess >= s.successThreshold;
    if (!bySteps && !bySuccess) return false;
    this.stage += 1;
    this.stageStart = timesteps;
    this.recent = [];
    return true;
  }

  state(): CurriculumState {
    return { stage: this.stage, stageStart: this.stageStart, recent: [...this.recent] };
  }

  setState(s: CurriculumState): void {
    this.stage = s.stage;
    this.stageStart = s.stageStart;
    this.recent = [...s.recent];
  }
}
