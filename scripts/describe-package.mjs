#!/usr/bin/env node
// Prints what `sls package` built in .serverless/: functions, bundle sizes, their IAM and the
// stack's resources: `npm run package && node scripts/describe-package.mjs`.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const dir = path.resolve(process.argv[2] ?? '.serverless');
const read = (file) => {
  try {
    return JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
  } catch {
    console.error(`No packaged stack in ${dir} (missing ${file}): run \`npm run package\` first.`);
    process.exit(1);
  }
};

const state = read('serverless-state.json');
const template = read('cloudformation-template-update-stack.json');
const { service, provider } = state.service;
const resources = Object.entries(template.Resources);

console.log(
  `Packaged ${service} for stage ${provider.stage} (${provider.region}) into ${path.relative(process.cwd(), dir) || '.'}/`,
);
console.log('\nFunctions:');
for (const [key, fn] of Object.entries(state.service.functions)) {
  const zipKb = (statSync(path.join(dir, `${key}.zip`)).size / 1024).toFixed(1);
  const [, lambda] = resources.find(
    ([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties.FunctionName === fn.name,
  );
  const roleId = lambda.Properties.Role['Fn::GetAtt']?.[0];
  const statements = (template.Resources[roleId]?.Properties.Policies ?? []).flatMap(
    (p) => p.PolicyDocument.Statement,
  );
  const actions = [...new Set(statements.flatMap((s) => [s.Action].flat()))].sort();
  console.log(
    `  ${fn.name.padEnd(36)} ${zipKb.padStart(6)} KB  ${lambda.Properties.Runtime} ${lambda.Properties.Architectures.join(',')}`,
  );
  console.log(`    handler ${fn.handler}`);
  console.log(`    role ${roleId}: ${actions.join(', ')}`);
  console.log(`    try it: npx sls invoke local -f ${key} -p events/${fn.handler.split('/')[1]}.json`);
}

const machines = resources.filter(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine');
if (machines.length > 0) console.log('\nState machines:');
for (const [id, machine] of machines) {
  const definition = JSON.parse(machine.Properties.DefinitionString);
  const states = Object.keys(definition.States).length;
  const placeholders = Object.keys(machine.Properties.DefinitionSubstitutions ?? {}).length;
  console.log(
    `  ${machine.Properties.StateMachineName.padEnd(36)} ${machine.Properties.StateMachineType} ${states} states, timeout ${definition.TimeoutSeconds} s, ${placeholders} substitutions (${id})`,
  );
}

const byType = {};
for (const [, resource] of resources) byType[resource.Type] = (byType[resource.Type] ?? 0) + 1;
console.log(`\nCloudFormation resources (${resources.length}):`);
for (const [type, count] of Object.entries(byType).sort())
  console.log(`  ${String(count).padStart(3)}  ${type}`);
console.log('\nDeploy with `npx sls deploy --stage dev` (needs AWS credentials).');
