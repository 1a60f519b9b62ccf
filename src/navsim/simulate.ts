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
  const ws = new LqrWorkspace(M);
  const vProf = new Float64Array(M);
  const kProf = new Float64Array(M);
  const cmd = new Float64Array(2);
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
