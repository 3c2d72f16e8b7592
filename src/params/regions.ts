import type { AutocompleteItem } from '../kaholo/contract';

/** Which AWS partition a region belongs to; the ones other than commercial need their own accounts. */
type Partition = 'aws' | 'aws-us-gov' | 'aws-cn' | 'aws-eusc';

interface Region {
  id: string;
  name: string;
  partition: Partition;
}

const PARTITION_MARK: Record<Partition, string> = {
  aws: '',
  'aws-us-gov': ' [GovCloud]',
  'aws-cn': ' [China]',
  'aws-eusc': ' [European Sovereign Cloud]',
};

// AWS regions with ECR, by partition. A test checks this list against the
// partitions the installed AWS SDK knows, so a new region is noticed.
const REGIONS: readonly Region[] = [
  ...commercial([
    ['af-south-1', 'Africa, Cape Town'],
    ['ap-east-1', 'Asia Pacific, Hong Kong'],
    ['ap-east-2', 'Asia Pacific, Taipei'],
    ['ap-northeast-1', 'Asia Pacific, Tokyo'],
    ['ap-northeast-2', 'Asia Pacific, Seoul'],
    ['ap-northeast-3', 'Asia Pacific, Osaka'],
    ['ap-south-1', 'Asia Pacific, Mumbai'],
    ['ap-south-2', 'Asia Pacific, Hyderabad'],
    ['ap-southeast-1', 'Asia Pacific, Singapore'],
    ['ap-southeast-2', 'Asia Pacific, Sydney'],
    ['ap-southeast-3', 'Asia Pacific, Jakarta'],
    ['ap-southeast-4', 'Asia Pacific, Melbourne'],
    ['ap-southeast-5', 'Asia Pacific, Malaysia'],
    ['ap-southeast-6', 'Asia Pacific, New Zealand'],
    ['ap-southeast-7', 'Asia Pacific, Thailand'],
    ['ca-central-1', 'Canada, Central'],
    ['ca-west-1', 'Canada West, Calgary'],
    ['eu-central-1', 'Europe, Frankfurt'],
    ['eu-central-2', 'Europe, Zurich'],
    ['eu-north-1', 'Europe, Stockholm'],
    ['eu-south-1', 'Europe, Milan'],
    ['eu-south-2', 'Europe, Spain'],
    ['eu-west-1', 'Europe, Ireland'],
    ['eu-west-2', 'Europe, London'],
    ['eu-west-3', 'Europe, Paris'],
    ['il-central-1', 'Israel, Tel Aviv'],
    ['me-central-1', 'Middle East, UAE'],
    ['me-south-1', 'Middle East, Bahrain'],
    ['mx-central-1', 'Mexico, Central'],
    ['sa-east-1', 'South America, São Paulo'],
    ['us-east-1', 'US East, N. Virginia'],
    ['us-east-2', 'US East, Ohio'],
    ['us-west-1', 'US West, N. California'],
    ['us-west-2', 'US West, Oregon'],
  ]),
  { id: 'us-gov-east-1', name: 'AWS GovCloud, US-East', partition: 'aws-us-gov' },
  { id: 'us-gov-west-1', name: 'AWS GovCloud, US-West', partition: 'aws-us-gov' },
  { id: 'cn-north-1', name: 'China, Beijing', partition: 'aws-cn' },
  { id: 'cn-northwest-1', name: 'China, Ningxia', partition: 'aws-cn' },
  { id: 'eusc-de-east-1', name: 'EU, Germany', partition: 'aws-eusc' },
];

function commercial(entries: Array<[string, string]>): Region[] {
  return entries.map(([id, name]) => ({ id, name, partition: 'aws' }));
}

/**
 * The autocomplete items, sorted by region code. Codes are lower-case ASCII, so code-unit order is
 * the order a reader expects; localeCompare would give the same here but starts ICU's collator,
 * about 10 ms in a fresh process.
 */
export function regionItems(): AutocompleteItem[] {
  return REGIONS.map((r) => ({ id: r.id, value: `${r.id} (${r.name})${PARTITION_MARK[r.partition]}` })).sort((a, b) =>
    a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
  );
}

/** Regions whose code or display name contains the query, ignoring case. */
export function filterRegions(query: unknown): AutocompleteItem[] {
  const needle = typeof query === 'string' ? query.trim().toLowerCase() : '';
  return regionItems().filter((item) => item.value.toLowerCase().includes(needle));
}

/** Shape of a region code (`us-east-1`, `us-gov-west-1`), known or newer than this list. */
export function isWellFormedRegion(region: string): boolean {
  return /^[a-z]{2,4}(-[a-z]+){1,2}-\d{1,2}$/.test(region);
}
