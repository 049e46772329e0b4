// One cold start, in a fresh process: import the bundle and invoke its handler once, as the Lambda runtime
// does. Prints CPU time (user + system) of the import and of import + first invoke, in ms, as JSON.
// Arguments: the bundle (index.mjs), the event file.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [bundle, eventFile] = process.argv.slice(2);
const event = JSON.parse(readFileSync(eventFile, 'utf8'));
const context = {
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:111122223333:function:${process.env.AWS_LAMBDA_FUNCTION_NAME}`,
  memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
  awsRequestId: 'c0ld5tar-0000-4000-8000-000000000001',
  logGroupName: `/aws/lambda/${process.env.AWS_LAMBDA_FUNCTION_NAME}`,
  logStreamName: 'bench',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 300_000,
};
const ms = (u) => (u.user + u.system) / 1000;
const start = process.cpuUsage();
const mod = await import(pathToFileURL(bundle).href);
const imported = process.cpuUsage(start);
let error;
try {
  await mod.handler(event, context);
} catch (e) {
  error = `${e?.name ?? 'Error'}: ${String(e?.message ?? e).slice(0, 300)}`;
}
const invoked = process.cpuUsage(start);
process.stdout.write(`\n${JSON.stringify({ importMs: ms(imported), totalMs: ms(invoked), error })}\n`);
