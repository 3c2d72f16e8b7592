import { kaholoMethod } from '../kaholo/action-boundary';
import { withTransfer } from './docker-transfer';

/** Pull Image From Repo: docker pulls the tag or digest `imageName` names from the repository. */
export const pullImage = kaholoMethod((context) => withTransfer(context, 'pull', ({ request, transfer }) => transfer.pullImage(request, context)));
