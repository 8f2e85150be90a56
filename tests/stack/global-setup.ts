import type { TestProject } from 'vitest/node';
import { packageInto } from './package-stack';

/** `sls package` takes ~10 s: every stack test file reads the one folder it fills. */
export default function setup(project: TestProject) {
  project.provide('packagedDir', packageInto());
}

declare module 'vitest' {
  export interface ProvidedContext {
    packagedDir: string;
  }
}
