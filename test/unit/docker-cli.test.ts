import path from 'node:path';
import { ActivityLog } from '../../src/kaholo/activity-log';
import { DockerCli } from '../../src/docker/docker-cli';
import { Redactor } from '../../src/kaholo/redactor';
import { TimeLimit } from '../../src/params/time-limit';
import { captureOutput } from '../support/capture-output';
import { installFakeDocker, type FakeDocker } from '../../devkit/docker-stand-in';

let docker: FakeDocker;
beforeEach(async () => {
  docker = await installFakeDocker();
});
afterEach(() => docker.remove());

function cli(scenario: string, redactor = new Redactor(), limit?: TimeLimit): DockerCli {
  const env = {
    ...process.env,
    PATH: `${docker.binDir}${path.delimiter}${process.env.PATH ?? ''}`,
    DEVKIT_DOCKER_SCENARIO: scenario,
  };
  return new DockerCli(env, redactor, new ActivityLog(redactor), { limit });
}

describe('DockerCli', () => {
  it('streams output line by line, redacted, as it comes', async () => {
    const redactor = new Redactor();
    redactor.add('team');
    const { output, result } = await captureOutput(() =>
      cli('ok', redactor).run(['push', 'r.example/team/app:1'], { stream: true, timeoutMs: 10_000 }),
    );
    expect(output.split('\n')).toEqual([
      'The push refers to repository [r.example/[REDACTED]/app]',
      '5f70bf18a086: Pushed',
      expect.stringMatching(/^1: digest: sha256:[a-f0-9]{64} size: 528$/),
      '',
    ]);
    expect(result?.stdout).toContain('r.example/team/app'); // the caller gets the raw output to parse
  });

  it('stops a command that outlives its timeout', async () => {
    const started = Date.now();
    const { error } = await captureOutput(() => cli('slow-push').run(['push', 'r.example/app:1'], { timeoutMs: 500 }));
    expect((error as Error).message).toBe('docker push did not finish within 0.5 s and was stopped');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('stops the running command on interrupt and refuses new ones, except those meant for cleanup', async () => {
    const runner = cli('slow-push');
    const push = runner.run(['push', 'r.example/app:1'], { timeoutMs: 30_000 });
    setTimeout(() => runner.interrupt(), 300);
    await expect(push).rejects.toThrow('docker push was stopped: the action was interrupted');
    await expect(runner.run(['tag', 'a', 'b'], { timeoutMs: 1000 })).rejects.toThrow('The action was interrupted');
    await expect(runner.run(['logout', 'r.example'], { timeoutMs: 5000, afterInterrupt: true })).rejects.toThrow(
      /docker logout failed/, // the stand-in has no config here; what matters is that it ran
    );
    expect((await docker.calls()).map((c) => c.argv[0])).toEqual(['push', 'logout']);
  });

  it('stops a work command at the time limit, naming transferTimeLimit, and starts none after it; clean-up runs on', async () => {
    const runner = cli('slow-push', new Redactor(), new TimeLimit(1, 700, 'push'));
    const started = Date.now();
    const { error } = await captureOutput(() => runner.run(['push', 'r.example/app:1'], { timeoutMs: 30_000 }));
    expect((error as Error).message).toBe('Parameter "transferTimeLimit": the push did not finish within 1 minute: docker push was stopped');
    expect(Date.now() - started).toBeLessThan(5000);
    await expect(runner.run(['image', 'inspect', 'app:1'], { timeoutMs: 120_000 })).rejects.toThrow(
      'Parameter "transferTimeLimit": the push did not finish within 1 minute: docker image was not started',
    );
    await expect(runner.run(['rmi', 'app:1'], { timeoutMs: 5000, afterInterrupt: true })).resolves.toBeDefined();
    expect((await docker.calls()).map((c) => c.argv[0])).toEqual(['push', 'rmi']);
  });
});
