import { ParamError } from '../../src/errors';
import { ParamReader } from '../../src/kaholo/param-reader';

const reader = (params: Record<string, unknown>, settings: Record<string, unknown> = {}): ParamReader =>
  new ParamReader(params, settings);

describe('ParamReader', () => {
  it('treats empty strings, whitespace, null and missing keys as not set', () => {
    const params = reader({ a: '', b: '   ', c: null });
    for (const name of ['a', 'b', 'c', 'd']) expect(params.string(name)).toBeUndefined();
  });

  it('trims strings and takes the id of an autocomplete value', () => {
    expect(reader({ a: ' x ' }).string('a')).toBe('x');
    expect(reader({ region: { id: 'eu-west-2', value: 'eu-west-2 (Europe, London)' } }).string('region')).toBe('eu-west-2');
    expect(reader({ region: { id: '', value: '' } }).string('region')).toBeUndefined();
  });

  it('falls back to the plugin setting of the same name only when the param is not set', () => {
    expect(reader({ region: '' }, { region: 'us-east-2' }).stringOrSetting('region')).toBe('us-east-2');
    expect(reader({ region: 'eu-west-1' }, { region: 'us-east-2' }).stringOrSetting('region')).toBe('eu-west-1');
  });

  it.each([
    [42, /is a number; expected a string \(write numbers/],
    [true, /is a boolean/],
    [['a'], /is an array/],
    [{ nested: 1 }, /is an object/],
  ])('names the parameter when a string param is %p', (value, message) => {
    expect(() => reader({ repoName: value }).string('repoName')).toThrow(ParamError);
    expect(() => reader({ repoName: value }).string('repoName')).toThrow(message);
    expect(() => reader({ repoName: value }).string('repoName')).toThrow(/^Parameter "repoName"/);
  });

  it('says when a wrong value comes from the plugin settings', () => {
    expect(() => reader({}, { region: 5 }).stringOrSetting('region')).toThrow('Parameter "region": is a number (plugin setting)');
  });

  it('reads lists from lines, commas and arrays, dropping blanks', () => {
    expect(reader({ l: 'a\nb, c\r\n\n' }).list('l')).toEqual(['a', 'b', 'c']);
    expect(reader({ l: ['a', ' b ', '', 'c,d'] }).list('l')).toEqual(['a', 'b', 'c', 'd']);
    expect(reader({ l: '' }).list('l')).toEqual([]);
    expect(reader({}).list('l')).toEqual([]);
    expect(() => reader({ l: [['a']] }).list('l')).toThrow('Parameter "l": item 0 is an array; expected a string');
  });

  it('requires what is required, saying what is expected', () => {
    expect(() => reader({ repoName: ' ' }).requiredString('repoName', 'the repository')).toThrow(
      'Parameter "repoName": is required: the repository',
    );
  });
});
