-- 002: the project lifecycle of 赣府厅发〔2023〕12号 (indicators.md section C).
INSERT INTO project_stage VALUES
    ('applied',          1, '申报'),
    ('assessed',         2, '论证评估'),
    ('joint_reviewed',   3, '联合会审'),
    ('approved',         4, '批复立项'),
    ('procured',         5, '招标采购'),
    ('started',          6, '实施（开工）'),
    ('trial',            7, '试运行'),
    ('initial_accepted', 8, '初验'),
    ('final_accepted',   9, '终验'),
    ('completed',       10, '竣工验收'),
    ('in_operation',    11, '运维'),
    ('evaluated',       12, '绩效评价'),
    ('terminated',      99, '终止');
