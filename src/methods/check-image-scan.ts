/**
 * Check Image Scan (`checkImageScan`): gates a pipeline on the vulnerability
 * findings ECR holds for an image. Its params are read here, once, before any
 * call; the scan code loads only when an action gets that far.
 */
import { Interruption } from '../agent/interruption';
import { parseImageRequest } from '../params/image-request';
import { ParamError } from '../errors';
import { kaholoMethod } from '../kaholo/action-boundary';
import { readConnection } from '../params/connection';
import { readScanRequest } from '../scan/scan-request';
import { readRegistrySelection, readRepoName, withRegistry } from './registry-access';

export const checkImageScan = kaholoMethod(async ({ params, log, redactor }) => {
  const connection = readConnection(params, 'checkImageScan');
  const selection = readRegistrySelection(params);
  if (selection.type === 'public') throw new ParamError('registryType', 'ECR Public does not scan images: Check Image Scan works on private repositories');
  const repoName = readRepoName(params);
  const imageName = params.requiredString('imageName', 'the tag ("1.2.0") or digest ("sha256:...") of an image in the repository');
  const image = parseImageRequest(imageName, 'pull'); // read as a pull reads it, once, before any call
  const request = readScanRequest(params);
  return withRegistry(connection, selection, { redactor, log }, async (registry) => {
    const { scans } = registry;
    if (scans === undefined) throw new ParamError('registryType', 'this registry has no image scanning: Check Image Scan works on private repositories');
    // SIGTERM, SIGINT and SIGHUP end a wait (and an AWS call under way) at once.
    const interruption = Interruption.catch(log);
    try {
      const [{ checkScan }, { systemClock }] = await Promise.all([import('../scan/scan-check'), import('../scan/clock')]);
      return await checkScan({ registry, scans, repoName }, image, request, { log, interruption, clock: systemClock(interruption) });
    } finally {
      interruption.release();
    }
  });
});
