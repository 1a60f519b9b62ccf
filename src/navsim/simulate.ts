/**
 * `PDMSimulator.simulate_proposals`: every proposal's 41 reference states are tracked by the LQR
 * controller and propagated with the kinematic bicycle model from the same initial ego state.
 *
 * Layout: `refs` and the result are flat `[proposal][step][11]` Float64Arrays.
 */
import { propagateStateTan } from './bicycle.js';
import { DEFAULT_LQR_CONFIG, LqrWorkspace, fitProfiles, lqrCommand } from './lqr.js';
import { NUM_STATES, STATE_SIZE as STATE_SIZE_IMPORT, StateIndex } from './types.js';
// Module-local copies of the state layout: the CommonJS build (file per file) reads imported
// bindings through export getters (~10 % of a fresh CLI process, before the code is optimised).
const S_STEERING_ANGLE = StateIndex.STEERING_ANGLE;
const STATE_SIZE = STATE_SIZE_IMPORT;

/** The tracker's scratch buffers of one horizon length (reused by every call: no allocation per call). */
interface SimScratch {
  ws: LqrWorkspace;
  vProf: Float64Array;
  kProf: Float64Array;
  cmd: Float64Array;
}
let scratch: SimScratch | null = null;
function scratchFor(m: number): SimScratch {
  // the buffers are fully rewritten per proposal (fitProfiles fills the workspace and both
  // profiles, lqrCommand writes both commands), so a reused one gives the same values
  if (scratch === null || scratch.ws.m !== m) {
    scratch = { ws: new LqrWorkspace(m), vProf: new Float64Array(m), kProf: new Float64Array(m), cmd: new Float64Array(2) };
  }
  return scratch;
}

/**
 * Simulates `numProposals` proposals of `numStates` reference states each. `initialState` is the
 * 11-value ego state at t0 (`ego_state_to_state_array`). Returns (or fills `out`) the simulated
 * states, same layout as `refs`.
 */
export function simulateProposals(
  refs: Float64Array,
  numProposals: number,
  initialState: ArrayLike<number>,
  numStates: number = NUM_STATES,
  out: Float64Array = new Float64Array(numProposals * numStates * STATE_SIZE),
): Float64Array {
  const M = numStates - 1;
  const { ws, vProf, kProf, cmd } = scratchFor(M);
  const stride = numStates * STATE_SIZE;
  for (let p = 0; p < numProposals; p++) {
    const base = p * stride;
    fitProfiles(refs, base, numStates, vProf, kProf, DEFAULT_LQR_CONFIG, ws);
    for (let c = 0; c < STATE_SIZE; c++) out[base + c] = initialState[c]!;
    let tanSteering = Math.tan(out[base + S_STEERING_ANGLE]!);
    for (let k = 0; k < M; k++) {
      const so = base + k * STATE_SIZE;
      lqrCommand(k, out, so, refs, base, vProf, kProf, M, cmd, DEFAULT_LQR_CONFIG, ws);
      tanSteering = propagateStateTan(out, so, cmd[0]!, cmd[1]!, out, so + STATE_SIZE, tanSteering);
    }
  }
  return out;
}
