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
    if (r.resultType === 'error') {
      out.push('error: ' + JSON.stringify(r.errors).slice(0, 300));
    } else if (r.resultType !== 'single') {
      // A resource with * or ? is taken as a pattern for many resources.
      out.push('error: not a single request (' + r.resultType + ')');
    } else {
      out.push(r.overallResult);
    }
  } catch (e) {
    out.push('error: ' + String(e).slice(0, 300));
  }
}
process.stdout.write(JSON.stringify(out));
