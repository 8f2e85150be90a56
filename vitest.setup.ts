import 'aws-sdk-client-mock-vitest/extend';

// CI runs the Lambda code's tests a second time on Node 24 (the Lambda runtime) and sets this, so a run that
// silently fell back to the machine's Node fails instead of proving nothing.
const expectedMajor = process.env.TRADAI_EXPECT_NODE_MAJOR;
if (expectedMajor && process.versions.node.split('.')[0] !== expectedMajor) {
  throw new Error(`These tests must run on Node ${expectedMajor}, not ${process.version}`);
}
