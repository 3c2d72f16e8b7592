/**
 * Check Image Scan (`checkImageScan`): gates a pipeline on the vulnerability
 * findings ECR holds for an image. Its params are read here, once, before any
 * call; the AWS SDK and the scan code load only when it runs (app.ts loads
 * this module itself only then).
 */
import type { ActionContext } from '../action-boundary';
import { checkRegistryId, checkRepositoryName } from '../aws-names';
import { readConnection } from '../connection';
import { Interruption } from '../interruption';
import { systemClock } from '../scan/clock';
import { readScanRequest } from '../scan/scan-request';
import type { ScanResult } from '../scan/scan-verdict';
import { parseImageRequest } from '../transfer-plan';

export async function checkImageScan({ params, log, redactor }: ActionContext): Promise<ScanResult> {
  const connection = readConnection(params, 'checkImageScan');
  const registryIdText = params.string('registryId');
  const registryId = registryIdText === undefined ? undefined : checkRegistryId('registryId', registryIdText);
  const repoName = checkRepositoryName('repoName', params.requiredString('repoName', 'the name of the repository in the registry, such as "team/app"'));
  const imageName = params.requiredString('imageName', 'the tag ("1.2.0") or digest ("@sha256:...") of an image in the repository');
  const image = parseImageRequest(imageName, 'pull'); // read as a pull reads it, once, before any call
  const request = readScanRequest(params);

  (await import('../code-cache')).preloadWithCodeCache('ecr-client');
  const ecr = await import('../ecr-client');
  const client = await ecr.createEcrClient(connection, redactor);
  // SIGTERM, SIGINT and SIGHUP end a wait (and an AWS call under way) at once.
  const interruption = Interruption.catch();
  try {
    await ecr.resolveRegion(client);
    const { checkScan } = await import('../scan/scan-check');
    return await checkScan({ client, registryId, repoName }, image, request, {
      log,
      interruption,
      clock: systemClock(interruption),
      endpoint: () => ecr.ecrCall(client, 'DescribeImageScanFindings').endpoint,
    });
  } finally {
    ecr.closeEcrClient(client);
    interruption.release();
  }
}
