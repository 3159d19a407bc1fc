// Reads a JSON array of simulations on stdin and prints, as a JSON array,
// the overall result of each: Allowed, ExplicitlyDenied or ImplicitlyDenied
// (or "error: ..."). Test-only: the differential test of generate/eval.
import { runSimulation } from '@cloud-copilot/iam-simulate';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const out = [];
for (const sim of JSON.parse(input)) {
  try {
    const r = await runSimulation(sim, { simulationMode: 'Strict' });
    out.push(r.resultType === 'error' ? 'error: ' + JSON.stringify(r.errors).slice(0, 300) : r.overallResult);
  } catch (e) {
    out.push('error: ' + String(e).slice(0, 300));
  }
}
process.stdout.write(JSON.stringify(out));
