export { checkPaths, type PathProblem } from './path-check';
export { RESULT_EXAMPLES } from './result-shapes';
export { worstCasePathSeconds, worstCaseStateSeconds } from './timing';
