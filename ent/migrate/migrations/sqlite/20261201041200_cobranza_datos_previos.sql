-- The rows that exist when collections begin (docs/dominio.md,
-- "Collections", "Data from before collections") are brought to its rules,
-- so that `factoring verificar` holds every row to them:
-- 1. a factura paid before partial payments existed (pagarFactura marked it
--    PAGADA without recording a payment) gets the one payment that paid it:
--    the whole montoTotal, dated the day the factura was last changed (its
--    payment, as far as the record tells; never before its issue), by actor
--    sistema under request migracion-cobranza; its montoPagado is that
--    amount and its diasMora the days from its due date to that payment;
-- 2. an operación finalized before the liquidación existed gets the one it
--    had: it advanced 100 %, charged no late interest and every invoice was
--    paid exactly, so it gave back 0.00.
-- Dates are written as the driver writes them. Each statement skips the
-- rows it already brought.
INSERT INTO `pagos` (`factura_id`, `monto`, `fecha`, `actor`, `request_id`, `creado_en`)
  SELECT `id`, `monto_total`, max(date(`fecha_emision`), date(`actualizado_en`)) || ' 00:00:00+00:00',
    'sistema', 'migracion-cobranza', `actualizado_en`
  FROM `facturas` `f`
  WHERE `estado` = 'PAGADA' AND NOT EXISTS (SELECT 1 FROM `pagos` `p` WHERE `p`.`factura_id` = `f`.`id`)
  ORDER BY `f`.`id`;
UPDATE `facturas` SET
    `monto_pagado` = (SELECT `p`.`monto` FROM `pagos` `p` WHERE `p`.`factura_id` = `facturas`.`id` AND `p`.`request_id` = 'migracion-cobranza'),
    `dias_mora` = max(0, (SELECT CAST(julianday(date(`p`.`fecha`)) - julianday(date(`facturas`.`fecha_vencimiento`)) AS INTEGER)
      FROM `pagos` `p` WHERE `p`.`factura_id` = `facturas`.`id` AND `p`.`request_id` = 'migracion-cobranza'))
  WHERE `monto_pagado` = 0
    AND EXISTS (SELECT 1 FROM `pagos` `p` WHERE `p`.`factura_id` = `facturas`.`id` AND `p`.`request_id` = 'migracion-cobranza');
UPDATE `operaciones` SET `monto_liquidacion` = 0,
    `liquidacion` = json_object('migracion', json('true'), 'excedente', '0.00', 'sobrepagos', '0.00',
      'interesMora', '0.00', 'saldoCompensado', '0.00', 'montoLiquidacion', '0.00')
  WHERE `estado` = 'FINALIZADA' AND `monto_liquidacion` IS NULL;
