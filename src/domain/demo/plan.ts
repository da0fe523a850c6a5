/**
 * What the demo school is made of (src/domain/demo/seed.ts turns it into import files): the
 * curriculum with realistic weekly hours, the staff, the school week.
 */

/** A row of an import file, keyed by canonical headers. */
export type Row = Record<string, string | number | boolean | undefined>;

/** A subject of the curriculum: weekly hours by grade (index 0 = grade 1), after the federal basic curriculum. */
export interface SubjectDef {
  id: string;
  name: string;
  short: string;
  assessment?: 'passfail';
  hours: ReadonlyArray<number>;
  /** Taught in two groups (English from grade 2). */
  groups?: boolean;
}

export const CURRICULUM: readonly SubjectDef[] = [
  { id: 'RUS', name: 'Русский язык', short: 'Рус. яз.', hours: [5, 5, 5, 5, 5, 6, 4, 3, 3, 2, 2] },
  { id: 'READ', name: 'Литературное чтение', short: 'Лит. чт.', hours: [4, 4, 4, 3] },
  { id: 'LIT', name: 'Литература', short: 'Лит.', hours: [0, 0, 0, 0, 3, 3, 2, 2, 3, 3, 3] },
  { id: 'MATH', name: 'Математика', short: 'Матем.', hours: [4, 4, 4, 4, 5, 5] },
  { id: 'ALG', name: 'Алгебра', short: 'Алг.', hours: [0, 0, 0, 0, 0, 0, 3, 3, 3, 3, 3] },
  { id: 'GEOM', name: 'Геометрия', short: 'Геом.', hours: [0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2] },
  { id: 'WORLD', name: 'Окружающий мир', short: 'Окр. мир', hours: [2, 2, 2, 2] },
  { id: 'ENG', name: 'Английский язык', short: 'Англ.', hours: [0, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3], groups: true },
  { id: 'HIST', name: 'История', short: 'Ист.', hours: [0, 0, 0, 0, 2, 2, 2, 2, 3, 2, 2] },
  { id: 'SOC', name: 'Обществознание', short: 'Общ.', hours: [0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2] },
  { id: 'GEO', name: 'География', short: 'Геогр.', hours: [0, 0, 0, 0, 1, 1, 2, 2, 2, 1, 1] },
  { id: 'BIO', name: 'Биология', short: 'Биол.', hours: [0, 0, 0, 0, 1, 1, 1, 2, 2, 1, 1] },
  { id: 'PHYS', name: 'Физика', short: 'Физ.', hours: [0, 0, 0, 0, 0, 0, 2, 2, 3, 2, 2] },
  { id: 'CHEM', name: 'Химия', short: 'Хим.', hours: [0, 0, 0, 0, 0, 0, 0, 2, 2, 1, 1] },
  { id: 'INF', name: 'Информатика', short: 'Инф.', hours: [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1] },
  { id: 'MUS', name: 'Музыка', short: 'Муз.', hours: [1, 1, 1, 1, 1, 1, 1, 1] },
  { id: 'ART', name: 'Изобразительное искусство', short: 'ИЗО', hours: [1, 1, 1, 1, 1, 1, 1] },
  { id: 'TECH', name: 'Труд (технология)', short: 'Труд', hours: [1, 1, 1, 1, 2, 2, 2, 1, 1] },
  { id: 'PE', name: 'Физическая культура', short: 'Физ-ра', hours: [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2] },
  {
    id: 'ORKSE',
    name: 'Основы религиозных культур и светской этики',
    short: 'ОРКСЭ',
    assessment: 'passfail',
    hours: [0, 0, 0, 1],
  },
];

/** Subjects a primary class teacher teaches in their own class. */
export const PRIMARY_SUBJECTS = new Set(['RUS', 'READ', 'MATH', 'WORLD', 'ART', 'TECH', 'ORKSE']);
/** Subjects one teacher takes together in a class (Russian + Literature, Algebra + Geometry, …). */
export const SUBJECT_FAMILY: Record<string, string> = {
  RUS: 'RUS',
  LIT: 'RUS',
  MATH: 'MATH',
  ALG: 'MATH',
  GEOM: 'MATH',
  HIST: 'HIST',
  SOC: 'HIST',
};
export const LETTERS = ['А', 'Б'] as const;
export const DAYS = [1, 2, 3, 4, 5] as const;
export const DEMO_SCHOOL_NAME = 'Демонстрационная школа № 1';

export interface StaffDef {
  id: string;
  roles: string;
  /** Subject family the teacher teaches in grades 5–11 (or all grades for specialists). */
  teaches?: string;
}

/** 40 staff: admin (teaches informatics), deputy (maths), secretary, 8 primary teachers, specialists. */
export function staffPlan(): StaffDef[] {
  const plan: StaffDef[] = [
    { id: 'T01', roles: 'admin;teacher', teaches: 'INF', },
    { id: 'T02', roles: 'deputy;teacher', teaches: 'MATH', },
    { id: 'T03', roles: 'secretary', },
  ];
  for (let i = 0; i < 8; i++) plan.push({ id: '', roles: 'teacher', teaches: 'PRIMARY', });
  const specialists: Array<[string, number]> = [
    ['RUS', 6],
    ['MATH', 5],
    ['ENG', 6],
    ['HIST', 2],
    ['GEO', 1],
    ['BIO', 1],
    ['CHEM', 1],
    ['PHYS', 1],
    ['INF', 1],
    ['MUS', 1],
    ['ART', 1],
    ['TECH', 1],
    ['PE', 2],
  ];
  for (const [family, n] of specialists) {
    for (let i = 0; i < n; i++) plan.push({ id: '', roles: 'teacher', teaches: family, });
  }
  return plan.map((s, i) => ({ ...s, id: `T${String(i + 1).padStart(2, '0')}` }));
}
