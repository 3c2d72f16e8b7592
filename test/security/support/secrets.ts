/**
 * Secrets for the security tests and the checks that they never show: distinctive values that
 * cannot appear by accident, a finder that reports where one leaked, and a stand-in `docker` that
 * does its worst — it repeats the registry password and its base64 auth in its own output and
 * error text, as a careless registry or CLI might.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A named secret to look for. */
export interface Secret {
  name: string;
  value: string;
}

/** A session token in the shape of an STS one (base64, with its "/" and "+"), unique per call. */
export function sessionToken(): string {
  return `IQoJb3JpZ2luX2VjEK/Security+Test/${randomBytes(24).toString('base64')}`;
}

/** ECR's authorization token for a password: base64 of `AWS:<password>`. */
export function authToken(password: string, user = 'AWS'): string {
  return Buffer.from(`${user}:${password}`, 'utf8').toString('base64');
}

/** The registry password and the base64 token that carries it. */
export function registrySecrets(password: string, label = 'registry password'): Secret[] {
  return [
    { name: label, value: password },
    { name: `${label} (base64 token)`, value: authToken(password) },
  ];
}

/** Names of the secrets that occur in `text` (empty: none leaked). */
export function leakedSecrets(text: string, secrets: Secret[]): string[] {
  return secrets.filter((s) => s.value !== '' && text.includes(s.value)).map((s) => s.name);
}

/** Everything a user can see of a failed or finished action, as one text. */
export function visibleText(parts: { output?: string; error?: unknown; result?: unknown }): string {
  const error = parts.error;
  const errorText =
    error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : error === undefined ? '' : typeof error === 'string' ? error : JSON.stringify(error);
  const resultText = parts.result === undefined ? '' : JSON.stringify(parts.result);
  return [parts.output ?? '', errorText, resultText].join('\n');
}

/**
 * A `docker` stand-in that leaks. It keeps logins in $DOCKER_CONFIG/config.json as docker does,
 * and every command prints the registry password of that login (twice) and its base64 auth to
 * stdout and stderr. The commands named in LEAKY_DOCKER_FAIL (comma-separated: login, push,
 * pull, logout) fail with the password in their error text, twice.
 */
const LEAKY_DOCKER = String.raw`#!/usr/bin/env node
'use strict';
const fs = require('fs');
const path = require('path');
const argv = process.argv.slice(2);
const command = argv[0];
const failing = (process.env.LEAKY_DOCKER_FAIL || '').split(',');
const file = path.join(process.env.DOCKER_CONFIG, 'config.json');
const config = JSON.parse(fs.readFileSync(file, 'utf8'));
let host = argv[argv.length - 1];
let password = '';
let auth = '';
if (command === 'login') {
  password = fs.readFileSync(0, 'utf8');
  auth = Buffer.from(argv[2] + ':' + password).toString('base64');
} else {
  const hosts = Object.keys(config.auths || {}).filter((h) => config.auths[h].auth);
  host = hosts[0] || host;
  auth = hosts.length ? config.auths[host].auth : '';
  const decoded = Buffer.from(auth, 'base64').toString('utf8');
  password = decoded.slice(decoded.indexOf(':') + 1);
}
const leak = 'password=' + password + ' again ' + password + ' auth=' + auth;
console.log('stand-in docker ' + command + ': ' + leak);
console.error('stand-in docker ' + command + ' warning: ' + leak);
if (failing.includes(command)) {
  console.error('Error response from daemon: Get "https://AWS:' + password + '@' + host + '/v2/": unauthorized: ' + leak);
  process.exit(1);
}
switch (command) {
  case 'login':
    config.auths = Object.assign({}, config.auths, { [host]: { auth } });
    fs.writeFileSync(file, JSON.stringify(config));
    console.log('Login Succeeded');
    break;
  case 'logout':
    delete (config.auths || {})[host];
    fs.writeFileSync(file, JSON.stringify(config));
    break;
  case 'image': {
    // As the engine does, an image knows the digests it was pushed under (recorded by push below).
    let pushed = host + '/x';
    try { pushed = fs.readFileSync(file + '.pushed', 'utf8'); } catch {}
    console.log(argv.includes('{{json .RepoDigests}}') ? JSON.stringify([pushed + '@sha256:' + 'ab'.repeat(32)]) : 'sha256:' + '12'.repeat(32));
    break;
  }
  case 'push':
    fs.writeFileSync(file + '.pushed', argv[1].replace(/:[^:/]*$/, ''));
    console.log('latest: digest: sha256:' + 'ab'.repeat(32) + ' size: 528');
    break;
  case 'pull':
    console.log('Digest: sha256:' + 'ab'.repeat(32));
    break;
  default:
    break;
}
`;

export interface LeakyDocker {
  /** Put first on PATH. */
  binDir: string;
  remove(): Promise<void>;
}

export async function installLeakyDocker(): Promise<LeakyDocker> {
  const binDir = await fs.mkdtemp(path.join(os.tmpdir(), 'leaky-docker-'));
  await fs.writeFile(path.join(binDir, 'docker'), LEAKY_DOCKER, { mode: 0o755 });
  return { binDir, remove: () => fs.rm(binDir, { recursive: true, force: true }) };
}
