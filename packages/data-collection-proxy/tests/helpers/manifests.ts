import { datasetManifest } from '@tradai/lambda-kit/testing';

/** A manifest as the data-collection task writes it (docs/contracts/dataset-manifest.md). */
export const manifest = datasetManifest;

export { objectBody, serveObjects } from '@tradai/lambda-kit/testing';
