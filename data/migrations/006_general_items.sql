-- 006: 一般政务服务事项. 黔府发〔2023〕21号 asks for 「一般政务服务事项100%“全程网办”」 without
-- listing the exceptions; an item is general unless the 事项清单 marks it onsite_required: a law
-- or regulation makes the applicant appear in person (当面核验、现场采集、现场勘验) or it involves
-- state secrets. 全程网办率 counts general items only. Existing items count as general until
-- the next 事项清单 upload says otherwise (the column is required in the template).

ALTER TABLE service_item ADD COLUMN onsite_required BOOLEAN NOT NULL DEFAULT false;

CREATE OR REPLACE VIEW v_service AS
SELECT f.*, i.audience, i.item_type, i.on_application,
       i.statutory_days, i.promised_days, i.one_thing, i.cross_province, i.onsite_required
FROM service_monthly AS f
JOIN service_item AS i USING (item_code);
