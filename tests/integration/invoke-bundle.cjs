// Runs one packaged handler (a bundle from a function's zip) once, as Lambda's Node runtime would:
// `node invoke-bundle.cjs <bundle file> <export>`, the event and context as JSON on stdin. The
// result (or the error's name and message) follows a marker on stdout, after whatever the handler
// logged there.
const [file, exportName] = process.argv.slice(2);
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  input += chunk;
});
process.stdin.on('end', async () => {
  const { event, context } = JSON.parse(input);
  const started = Date.now();
  const lambdaContext = {
    ...context,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => context.timeoutMs - (Date.now() - started),
  };
  let outcome;
  try {
    const handler = require(file)[exportName];
    const result = await handler(event, lambdaContext);
    outcome = { ok: true, result: result === undefined ? null : result };
  } catch (error) {
    outcome = { ok: false, errorType: error?.name, errorMessage: error?.message };
  }
  process.stdout.write(`\n@@tradai-invoke-result@@${JSON.stringify(outcome)}\n`);
});
