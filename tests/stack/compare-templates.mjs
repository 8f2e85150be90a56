#!/usr/bin/env node
// Compares two packaged CloudFormation templates resource by resource:
//   node tests/stack/compare-templates.mjs before.json after.json
// Order does not matter where IAM and CloudFormation ignore it (statement, action and resource
// lists); the code zips' hashed keys and the Framework's version outputs are left out. Prints
// every resource that was added, removed or changed, and exits 1 if any was.
import { readFileSync } from 'node:fs';

const [beforeFile, afterFile] = process.argv.slice(2);
if (!beforeFile || !afterFile) {
  console.error('usage: compare-templates.mjs <before.json> <after.json>');
  process.exit(2);
}
const read = (file) => JSON.parse(readFileSync(file, 'utf8'));
// EventBridge matches any value of a pattern's list, so its order does not matter either.
const UNORDERED = new Set(['Statement', 'Action', 'Resource', 'stateMachineArn', 'status']);
const VOLATILE = /^(S3Key|CodeSha256)$/;

/** A canonical form: sorted keys, unordered lists sorted, volatile values dropped. */
const canonical = (value, key = '') => {
  if (Array.isArray(value)) {
    const items = value.map((item) => canonical(item));
    return UNORDERED.has(key)
      ? items.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1))
      : items;
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .filter((k) => !VOLATILE.test(k))
        .sort()
        .map((k) => [k, canonical(value[k], k)]),
    );
  }
  return value;
};
/**
 * Lambda versions are named after their code hash, and API Gateway deployments after the time of
 * packaging: compare them by what they belong to.
 */
const stableId = (id, resource) => {
  if (resource.Type === 'AWS::Lambda::Version') return `${resource.Properties.FunctionName.Ref}Version`;
  if (resource.Type === 'AWS::ApiGateway::Deployment') return 'ApiGatewayDeployment';
  return id;
};
const byStableId = (resources) =>
  Object.fromEntries(
    Object.entries(resources).map(([id, resource]) => [stableId(id, resource), canonical(resource)]),
  );

const before = byStableId(read(beforeFile).Resources);
const after = byStableId(read(afterFile).Resources);
const differences = [];
for (const id of new Set([...Object.keys(before), ...Object.keys(after)])) {
  if (!(id in after)) differences.push(`- ${id} (${before[id].Type}) removed`);
  else if (!(id in before)) differences.push(`+ ${id} (${after[id].Type}) added`);
  else if (JSON.stringify(before[id]) !== JSON.stringify(after[id])) {
    differences.push(`~ ${id} (${after[id].Type}) changed`);
    for (const key of new Set([
      ...Object.keys(before[id].Properties ?? {}),
      ...Object.keys(after[id].Properties ?? {}),
    ])) {
      const a = JSON.stringify(before[id].Properties?.[key]);
      const b = JSON.stringify(after[id].Properties?.[key]);
      if (a !== b)
        differences.push(`    ${key}:\n      before ${a?.slice(0, 400)}\n      after  ${b?.slice(0, 400)}`);
    }
  }
}
console.log(`${Object.keys(before).length} resources before, ${Object.keys(after).length} after`);
console.log(differences.length === 0 ? 'equal, resource by resource' : differences.join('\n'));
process.exit(differences.length === 0 ? 0 : 1);
