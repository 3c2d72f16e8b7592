/**
 * The plugin's entry, loaded by the Kaholo agent with require(): every method
 * and autocomplete function config.json names, and nothing else. Each method
 * is a module of methods/; what a method needs of the AWS SDK or the docker
 * side loads only when an action gets that far, so the autocomplete stays
 * instant.
 */
import type { KaholoAutocomplete } from './kaholo/contract';
import { filterRegions } from './params/regions';

export { describeRepositories } from './methods/describe-repositories';
export { getEcrLogin } from './methods/get-ecr-login';
export { pushImgaeToRepo } from './methods/push-image';
export { pullImage } from './methods/pull-image';
export { tagImage } from './methods/tag-image';
export { checkImageScan } from './methods/check-image-scan';
export { copyImage } from './methods/copy-image';

export const listRegions: KaholoAutocomplete = (query) => Promise.resolve(filterRegions(query));
