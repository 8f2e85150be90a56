export { environment, handler, type RenderedBot, renderBotConfigInput as input } from './handler';
