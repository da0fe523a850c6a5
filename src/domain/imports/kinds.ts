/**
 * What each import kind looks like: its columns (canonical snake_case English headers, plus the
 * Russian headers people actually write), how headers are matched, and which kind a file or a
 * word means. The cells are parsed in cells.ts, the rows checked by the schemas in rows.ts.
 */
export const IMPORT_KINDS = ['students', 'staff', 'subjects', 'classes', 'groups', 'load', 'timetable'] as const;
export type ImportKind = (typeof IMPORT_KINDS)[number];

/** The order a school loads its files in: each refers to codes the earlier ones created. */
export const IMPORT_ORDER: readonly ImportKind[] = ['staff', 'subjects', 'classes', 'students', 'groups', 'load', 'timetable'];

/** Kinds the deputy may load (R7); admin and secretary may load all (R5). */
export const DEPUTY_KINDS: readonly ImportKind[] = ['subjects', 'classes', 'groups', 'load', 'timetable'];

export interface ColumnDef {
  name: string;
  /** Header spellings accepted besides the canonical name (compared after normalizeHeader). */
  aliases: readonly string[];
  /** The header must be present (the cell may still be allowed empty by the schema). */
  required: boolean;
}

/** Lower case, ё→е, `_`/`-`/`.` and runs of spaces → one space: "Фамилия ", "last_name" and "Last Name" match. */
export function normalizeHeader(header: string): string {
  return header
    .toLowerCase()
    .replace(/ё/g, 'е')
    .replace(/[_\-.:№#]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

const col = (name: string, aliases: readonly string[], isRequired = false): ColumnDef => ({
  name,
  aliases,
  required: isRequired,
});

const NAME_COLUMNS = [
  col('last_name', ['фамилия', 'surname', 'family name'], true),
  col('first_name', ['имя', 'given name'], true),
  col('middle_name', ['отчество', 'patronymic']),
];

const PARENT_FIELDS = [
  ['id', ['код', 'id', 'ид']],
  ['last_name', ['фамилия']],
  ['first_name', ['имя']],
  ['middle_name', ['отчество']],
  ['phone', ['телефон']],
  ['relation', ['родство', 'кем приходится', 'степень родства']],
] as const;

/** parent1_last_name ← "Фамилия родителя 1", "Родитель 1 фамилия", "Родитель1 Фамилия". */
const parentColumns = (n: 1 | 2): ColumnDef[] =>
  PARENT_FIELDS.map(([field, words]) =>
    col(
      `parent${n}_${field}`,
      words.flatMap((w) => [`${w} родителя ${n}`, `родитель ${n} ${w}`, `родитель${n} ${w}`, `parent ${n} ${field.replace('_', ' ')}`]),
    ),
  );

export const COLUMNS: Record<ImportKind, ColumnDef[]> = {
  students: [
    col('student_id', ['код ученика', 'id ученика', 'ид ученика', 'номер ученика', 'код', 'id'], true),
    ...NAME_COLUMNS,
    col('class_id', ['класс', 'код класса', 'class'], true),
    col('birth_date', ['дата рождения', 'birthday', 'date of birth']),
    col('form', ['форма обучения', 'форма']),
    col('pe_exempt', ['освобождение от физкультуры', 'освобожден от физкультуры', 'освобождение от фк', 'пе освобождение']),
    col('status', ['статус']),
    ...parentColumns(1),
    ...parentColumns(2),
  ],
  staff: [
    col('staff_id', ['код сотрудника', 'табельный номер', 'id сотрудника', 'код', 'id'], true),
    ...NAME_COLUMNS,
    col('roles', ['роли', 'роль', 'role'], true),
    col('phone', ['телефон']),
    col('active', ['работает', 'активен', 'действующий']),
  ],
  subjects: [
    col('subject_id', ['код предмета', 'код', 'id'], true),
    col('name', ['название', 'наименование', 'предмет'], true),
    col('short_name', ['краткое название', 'сокращение', 'краткое наименование']),
    col('assessment', ['оценивание', 'система оценивания']),
    // R21: physical education (exempt students are no absence).
    col('pe', ['физкультура', 'физическая культура', 'физра']),
  ],
  classes: [
    col('class_id', ['код класса', 'код', 'id'], true),
    col('grade', ['параллель', 'год обучения', 'номер класса'], true),
    col('letter', ['литера', 'буква'], true),
    col('class_teacher_id', ['классный руководитель', 'код классного руководителя', 'кл рук']),
  ],
  groups: [
    col('group_id', ['код группы', 'код', 'id'], true),
    col('class_id', ['класс', 'код класса'], true),
    col('subject_id', ['предмет', 'код предмета'], true),
    col('name', ['название', 'группа', 'наименование'], true),
    col('student_ids', ['ученики', 'коды учеников', 'students'], true),
  ],
  load: [
    col('class_id', ['класс', 'код класса'], true),
    col('group_id', ['группа', 'код группы']),
    col('subject_id', ['предмет', 'код предмета'], true),
    col('teacher_id', ['учитель', 'код учителя', 'преподаватель'], true),
    col('hours_per_year', ['часов в год', 'часы в год', 'часы', 'hours'], true),
  ],
  timetable: [
    col('class_id', ['класс', 'код класса'], true),
    col('group_id', ['группа', 'код группы']),
    col('weekday', ['день недели', 'день', 'day'], true),
    col('lesson_no', ['номер урока', 'урок', 'lesson'], true),
    col('subject_id', ['предмет', 'код предмета'], true),
    col('teacher_id', ['учитель', 'код учителя', 'преподаватель'], true),
    col('room', ['кабинет', 'аудитория']),
    col('valid_from', ['действует с', 'с', 'from']),
    col('valid_to', ['действует по', 'по', 'to']),
  ],
};

/** Header as written → canonical column name, for one kind. */
export function headerMap(kind: ImportKind): Map<string, string> {
  const map = new Map<string, string>();
  for (const c of COLUMNS[kind]) {
    map.set(normalizeHeader(c.name), c.name);
    for (const a of c.aliases) if (!map.has(normalizeHeader(a))) map.set(normalizeHeader(a), c.name);
  }
  return map;
}

export interface MappedHeaders {
  /** Header as written in the file → canonical column. Unknown headers are left out (ignored). */
  columns: Map<string, string>;
  /** Canonical columns present in the file. */
  present: Set<string>;
  errors: Array<{ column: string; key: string; vars?: Record<string, unknown> }>;
}

export function mapHeaders(kind: ImportKind, headers: readonly string[]): MappedHeaders {
  const known = headerMap(kind);
  const columns = new Map<string, string>();
  const present = new Set<string>();
  const errors: MappedHeaders['errors'] = [];
  for (const header of headers) {
    const name = known.get(normalizeHeader(header));
    if (!name) continue;
    if (present.has(name)) {
      errors.push({ column: name, key: 'import.errors.duplicateColumn', vars: { header } });
      continue;
    }
    columns.set(header, name);
    present.add(name);
  }
  for (const c of COLUMNS[kind]) {
    if (c.required && !present.has(c.name)) errors.push({ column: c.name, key: 'import.errors.missingColumn', vars: { column: c.name } });
  }
  return { columns, present, errors };
}

/** The kind whose identifying columns are all in the file (bot: a document sent without a caption). */
export function guessKind(headers: readonly string[]): ImportKind | undefined {
  const has = (kind: ImportKind, ...names: string[]) => {
    const { present } = mapHeaders(kind, headers);
    return names.every((n) => present.has(n));
  };
  if (has('students', 'student_id', 'class_id', 'last_name')) return 'students';
  if (has('staff', 'staff_id', 'roles')) return 'staff';
  if (has('groups', 'group_id', 'student_ids')) return 'groups';
  if (has('timetable', 'weekday', 'lesson_no', 'teacher_id')) return 'timetable';
  if (has('load', 'hours_per_year', 'teacher_id')) return 'load';
  if (has('classes', 'class_id', 'letter') && mapHeaders('classes', headers).errors.length === 0) return 'classes';
  if (has('subjects', 'subject_id', 'name') && !has('groups', 'class_id')) return 'subjects';
  return undefined;
}

const KIND_WORDS: Record<string, ImportKind> = {
  students: 'students',
  student: 'students',
  pupils: 'students',
  ученики: 'students',
  учащиеся: 'students',
  обучающиеся: 'students',
  контингент: 'students',
  staff: 'staff',
  teachers: 'staff',
  сотрудники: 'staff',
  персонал: 'staff',
  учителя: 'staff',
  кадры: 'staff',
  subjects: 'subjects',
  предметы: 'subjects',
  classes: 'classes',
  классы: 'classes',
  groups: 'groups',
  группы: 'groups',
  load: 'load',
  нагрузка: 'load',
  'учебная нагрузка': 'load',
  'педагогическая нагрузка': 'load',
  timetable: 'timetable',
  schedule: 'timetable',
  расписание: 'timetable',
};

/** A caption or command word → kind ("students", "Ученики", "расписание"). */
export function kindFromWord(word: string | undefined): ImportKind | undefined {
  if (!word) return undefined;
  return KIND_WORDS[normalizeHeader(word).replace(/^\//, '')];
}

