export { checkPaths, type PathProblem } from './path-check';
export { RESULT_EXAMPLES } from './result-shapes';
export {
  CHILD_END_MARGIN_SECONDS,
  sweepVariantState,
  variantTimeoutIssues,
  variantTimeoutSeconds,
  worstCasePathSeconds,
  worstCaseStateSeconds,
} from './timing';
