export { environment, handler, notifyCompletionInput as input } from './handler';
export { bodyOf, type Notification, subjectOf } from './message';
