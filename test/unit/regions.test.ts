import fs from 'node:fs';
import path from 'node:path';
import { filterRegions, isWellFormedRegion, regionItems } from '../../src/params/regions';

interface Partitions {
  partitions: Array<{ id: string; regions: Record<string, unknown> }>;
}

describe('regions', () => {
  it('covers every region the installed AWS SDK knows in the commercial, GovCloud and China partitions', () => {
    const file = path.join(path.dirname(require.resolve('@aws-sdk/util-endpoints')), 'lib/aws/partitions.json');
    const { partitions } = JSON.parse(fs.readFileSync(file, 'utf8')) as Partitions;
    const sdkRegions = partitions
      .filter((p) => ['aws', 'aws-us-gov', 'aws-cn'].includes(p.id))
      .flatMap((p) => Object.keys(p.regions))
      .filter((id) => !id.endsWith('-global'));
    expect(sdkRegions.length).toBeGreaterThan(30);
    const ours = regionItems().map((r) => r.id);
    expect(sdkRegions.filter((id) => !ours.includes(id))).toEqual([]);
  });

  it('marks GovCloud and China regions and sorts by code', () => {
    const items = regionItems();
    expect(items.map((r) => r.id)).toEqual([...items.map((r) => r.id)].sort());
    expect(items.find((r) => r.id === 'us-gov-west-1')?.value).toBe('us-gov-west-1 (AWS GovCloud, US-West) [GovCloud]');
    expect(items.find((r) => r.id === 'cn-north-1')?.value).toBe('cn-north-1 (China, Beijing) [China]');
  });

  it('filters on code or name, ignoring case; an empty query gives all', () => {
    expect(filterRegions('').length).toBe(regionItems().length);
    expect(filterRegions(undefined).length).toBe(regionItems().length);
    expect(filterRegions('TOKYO').map((r) => r.id)).toEqual(['ap-northeast-1']);
    expect(filterRegions('gov').map((r) => r.id)).toEqual(['us-gov-east-1', 'us-gov-west-1']);
    expect(filterRegions('no such place')).toEqual([]);
  });

  it('tells region codes from other text', () => {
    for (const id of ['us-east-1', 'us-gov-west-1', 'eusc-de-east-1', 'ap-southeast-7']) expect(isWellFormedRegion(id)).toBe(true);
    for (const text of ['Europe', 'us-east', 'US-EAST-1', 'us-east-1 ', 'us_east_1', '']) expect(isWellFormedRegion(text)).toBe(false);
  });
});
