export { environment, handler, type ServiceUpdate, updateBotServiceInput as input } from './handler';
