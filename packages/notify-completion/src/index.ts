export { environment, handler, notifyCompletionInput } from './handler';
export { bodyOf, type Notification, subjectOf } from './message';
