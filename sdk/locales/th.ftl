## Aftercare messages: Thai.
## Arguments are listed in sdk/src/l10n/mod.rs. A URL always stands alone on its own line.
## `has_name` is set by the localizer: 0 when no first name is known.
## Thai separates clauses with spaces, not full stops; no gendered particles (ครับ/ค่ะ).

tracking-shipped =
    { $has_name ->
        [0] ข่าวดี!
       *[other] ข่าวดีคุณ{ $first_name }!
    } คำสั่งซื้อ { $order_number } ของคุณจัดส่งแล้ว{ $has_carrier ->
        [0] {""}
       *[other] ผ่าน { $carrier }
    }{ $has_tracking_number ->
        [0] {""}
       *[other] {" "}หมายเลขพัสดุ: { $tracking_number }
    }
    ติดตามพัสดุได้ที่:
    { $tracking_url }

tracking-out-for-delivery =
    { $has_name ->
        [0] สวัสดี
       *[other] สวัสดีคุณ{ $first_name }
    } คำสั่งซื้อ { $order_number } ของคุณกำลังออกไปส่งและน่าจะถึงภายในวันนี้
    ติดตามสถานะได้ที่:
    { $tracking_url }

tracking-delivered =
    { $has_name ->
        [0] สวัสดี
       *[other] สวัสดีคุณ{ $first_name }
    } คำสั่งซื้อ { $order_number } ของคุณจัดส่งถึงแล้ว หวังว่าคุณจะถูกใจ!

tracking-attempted =
    { $has_name ->
        [0] สวัสดี
       *[other] สวัสดีคุณ{ $first_name }
    } { $has_carrier ->
        [0] บริษัทขนส่งพยายามนำส่งคำสั่งซื้อ { $order_number } ของคุณแต่ไม่สำเร็จ
       *[other] { $carrier } พยายามนำส่งคำสั่งซื้อ { $order_number } ของคุณแต่ไม่สำเร็จ
    } ดูขั้นตอนถัดไปหรือเลือกเวลาจัดส่งใหม่ได้ที่:
    { $tracking_url }

tracking-exception =
    { $has_name ->
        [0] สวัสดี
       *[other] สวัสดีคุณ{ $first_name }
    } การจัดส่งคำสั่งซื้อ { $order_number } ของคุณ{ $has_carrier ->
        [0] {""}
       *[other] {" "}({ $carrier })
    } พบปัญหา เรากำลังดูแลให้อยู่ ดูรายละเอียดได้ที่:
    { $tracking_url }

tracking-delayed =
    { $has_name ->
        [0] สวัสดี
       *[other] สวัสดีคุณ{ $first_name }
    } คำสั่งซื้อ { $order_number } ของคุณล่าช้ากว่ากำหนด { $has_eta ->
        [0] เรายังไม่มีวันที่จัดส่งใหม่ และจะแจ้งให้ทราบโดยเร็ว
       *[other] วันที่คาดว่าจะได้รับใหม่คือ { $eta }
    } ขออภัยที่ทำให้รอ
    ติดตามพัสดุได้ที่:
    { $tracking_url }

content-tutorial =
    { $has_name ->
        [0] สวัสดี
       *[other] สวัสดีคุณ{ $first_name }
    } เคล็ดลับการใช้ { $product_title } ให้คุ้มค่าที่สุด:
    { $url }

support-link =
    ต้องการความช่วยเหลือเกี่ยวกับคำสั่งซื้อไหม ติดต่อ { $shop_name } ได้ที่:
    { $url }

survey-nps-invite =
    { $has_name ->
        [0] สวัสดี
       *[other] สวัสดีคุณ{ $first_name }
    } คุณมีแนวโน้มจะแนะนำ { $shop_name } ให้เพื่อนมากน้อยแค่ไหน { $replies ->
        [0] ให้คะแนน 0 ถึง 10 ได้ที่:
       *[other] ตอบเลข 0 (ไม่แนะนำเลย) ถึง 10 (แนะนำแน่นอน) หรือตอบที่:
    }
    { $url }

survey-csat-invite =
    { $has_name ->
        [0] สวัสดี
       *[other] สวัสดีคุณ{ $first_name }
    } คุณพึงพอใจกับคำสั่งซื้อ { $order_number } มากน้อยแค่ไหน { $replies ->
        [0] ให้คะแนน 1 ถึง 5 ได้ที่:
       *[other] ตอบกลับเป็นตัวเลข 1 (ไม่พอใจมาก) ถึง 5 (พอใจมาก) หรือตอบได้ที่:
    }
    { $url }

survey-reask = ขออภัย เราไม่เข้าใจคำตอบของคุณ กรุณาตอบกลับเป็นตัวเลขตั้งแต่ { $score_min } ถึง { $score_max } เท่านั้น

survey-clarify = ขอบคุณ คำตอบของคุณมีตัวเลขมากกว่าหนึ่งตัว เราจึงไม่ทราบว่าคุณหมายถึงคะแนนใด กรุณาตอบกลับด้วยตัวเลขเพียงตัวเดียวตั้งแต่ { $score_min } ถึง { $score_max }

survey-thanks =
    { $has_name ->
        [0] ขอบคุณสำหรับความคิดเห็น!
       *[other] ขอบคุณคุณ{ $first_name } สำหรับความคิดเห็น!
    } ความคิดเห็นของคุณช่วยให้เราพัฒนาได้ดียิ่งขึ้น

survey-closed = ขอบคุณที่ตอบกลับ แบบสอบถามนี้ปิดแล้ว เราจึงบันทึกคำตอบของคุณไม่ได้

optout-confirmed = ยกเลิกการรับข้อความเรียบร้อยแล้ว คุณจะไม่ได้รับข้อความจาก { $shop_name } ทางช่องทางนี้อีก หากต้องการรับอีกครั้ง พิมพ์ START

optin-confirmed = คุณกลับมารับข้อความจาก { $shop_name } แล้ว พิมพ์ หยุด หรือ STOP เพื่อยกเลิกได้ทุกเมื่อ

help-reply =
    { $shop_name }: แจ้งสถานะคำสั่งซื้อและแบบสอบถามความพึงพอใจ อาจมีค่าบริการข้อความและอินเทอร์เน็ต พิมพ์ หยุด หรือ STOP เพื่อยกเลิก ขอความช่วยเหลือ:
    { $url }

email-subject-shipped = คำสั่งซื้อ { $order_number } ของคุณกำลังเดินทาง

email-subject-survey = คำสั่งซื้อจาก { $shop_name } เป็นอย่างไรบ้าง

stop-hint = ยกเลิกพิมพ์ STOP

quiet-footer = คุณได้รับข้อความนี้เนื่องจากคุณสั่งซื้อสินค้ากับ { $shop_name }

email-footer-stop = { $replies ->
        [0] ไม่ต้องการรับอีเมลเหล่านี้? แจ้ง { $shop_name } แล้วเราจะหยุดส่ง
       *[other] ไม่ต้องการรับอีเมลเหล่านี้? ตอบกลับว่า หยุด
    }

# WhatsApp template parameters when a value is missing (a template has no selectors).
whatsapp-no-name = คุณลูกค้า
whatsapp-no-carrier = บริษัทขนส่ง
whatsapp-no-tracking-number = ในหน้าติดตามพัสดุ
