## Aftercare: page labels and further messages, Brazilian Portuguese.

tracking-ready-for-pickup =
    { $has_name ->
        [0] Olá!
       *[other] Olá, { $first_name }!
    } Seu pedido { $order_number } está pronto para retirada. Detalhes e horários:
    { $tracking_url }
survey-reminder =
    { $has_name ->
        [0] Olá de novo!
       *[other] Olá de novo, { $first_name }!
    } Ainda queremos saber como foi o seu pedido { $order_number }. Leva só alguns segundos:
    { $url }
survey-ces-invite =
    { $has_name ->
        [0] Olá!
       *[other] Olá, { $first_name }!
    } Foi fácil receber o seu pedido { $order_number }? { $replies ->
        [0] Escolha de 1 a 7 no link:
       *[other] Responda de 1 (muito difícil) a 7 (muito fácil) ou use o link:
    }
    { $url }
review-request =
    Obrigado pela ótima nota! Você poderia compartilhá-la em uma avaliação curta? Isso ajuda outros clientes:
    { $url }
support-detractor-alert = Cliente insatisfeito: o pedido { $order_number } recebeu { $kind } { $score }.{ $has_comment ->
        [0] {""}
       *[other] {" "}Comentário: { $comment }
    }
email-subject-update = Novidades sobre o seu pedido { $order_number }
email-subject-alert = Cliente insatisfeito no pedido { $order_number }
tutorials-intro = Primeiros passos com a sua compra:
page-order = Pedido
page-status = Status
page-carrier = Transportadora
page-tracking-number = Código de rastreio
page-estimated-delivery = Previsão de entrega
page-track-on-carrier = Rastrear no site da transportadora
page-timeline = Histórico do envio
page-items = Itens
page-tutorials = Guias dos seus produtos
page-support = Falar com o suporte
page-link-invalid = Este link não é válido.
page-link-expired = Este link expirou.
page-unavailable = Esta página está indisponível no momento. Tente novamente em alguns minutos.
status-confirmed = Pedido confirmado
status-label-created = Etiqueta criada
status-picked-up = Coletado pela transportadora
status-in-transit = Em trânsito
status-out-for-delivery = Saiu para entrega
status-attempted-delivery = Tentativa de entrega
status-ready-for-pickup = Pronto para retirada
status-delivered = Entregue
status-delayed = Atrasado
status-exception = Problema na entrega
status-returned = Devolvido ao remetente
status-cancelled = Cancelado
status-unknown = Atualização de status
survey-nps-question = Qual a chance de você recomendar { $shop_name } a um amigo?
survey-csat-question = Você ficou satisfeito com o seu pedido de { $shop_name }?
survey-ces-question = Foi fácil receber o seu pedido de { $shop_name }?
survey-nps-low = Nada provável
survey-nps-high = Muito provável
survey-csat-low = Muito insatisfeito
survey-csat-high = Muito satisfeito
survey-ces-low = Muito difícil
survey-ces-high = Muito fácil
survey-comment-label = Qual o principal motivo da sua nota? (opcional)
survey-submit = Enviar
survey-confirm-hint = Sua nota está selecionada. Toque em Enviar para confirmar.
survey-already-answered = Você já respondeu. Obrigado!
survey-pick-a-score = Escolha uma nota.
dash-title = Satisfação dos clientes
dash-response-rate = Taxa de resposta
dash-trend = NPS por semana
dash-distribution = Distribuição das notas
dash-by-carrier = Por transportadora
dash-by-product = Por produto
dash-by-lateness = Por atraso na entrega
dash-week = Semana
dash-responses = Respostas
dash-login-title = Entrar no painel
dash-login-key = Chave do painel
dash-login-submit = Entrar
dash-login-wrong = Essa chave não está correta.
dash-logout = Sair

# The carrier's own text and the pickup point (tracking sources).
carrier-note = A transportadora informa: { $carrier_note }
pickup-point = Ponto de retirada: { $pickup_point }
page-pickup-point = Ponto de retirada
dash-too-few = Poucas respostas para calcular a nota
dash-csat-distribution = Respostas CSAT (1–5)
dash-ces-distribution = Respostas CES (1–7)
dash-group = Grupo
dash-lateness-on-time = No prazo
dash-lateness-1-2 = 1–2 dias de atraso
dash-lateness-3-plus = 3 ou mais dias de atraso
dash-unknown = Desconhecido
dash-download = Baixar as respostas:
recovery-apology =
    { $has_name ->
        [0] Sentimos muito:
       *[other] { $first_name }, sentimos muito:
    } o seu pedido { $order_number } não chegou como deveria. Já estamos cuidando disso e vamos resolver.
recovery-apology-code =
    { $has_name ->
        [0] Sentimos muito:
       *[other] { $first_name }, sentimos muito:
    } o seu pedido { $order_number } não chegou como deveria. Como desculpas, você tem { $discount } de desconto no próximo pedido com o código { $code }.

page-error-help = A { $shop_name } tem prazer em ajudar com o seu pedido.
page-back-to-shop = Voltar para { $shop_name }
survey-review-prompt = Que bom que você gostou! Pode contar para outras pessoas em uma avaliação?
survey-review-link = Escrever uma avaliação

# The dashboard's retention page.
ret-title = Retenção
ret-customers = Clientes
ret-repeat-customers = Compraram duas vezes ou mais
ret-repeat-rate = Compraram de novo em { $days } dias
ret-median = Mediana até o segundo pedido
ret-days = { $days } dias
ret-churn = Perdidos: sem pedidos há { $days } dias ({ $multiple } × o intervalo mediano de { $median } dias)
ret-churn-none = Perda: nenhum cliente comprou duas vezes ainda
ret-too-few = Poucos clientes
ret-download = Baixar os números:
ret-costs = O que a experiência custa
ret-compare-with = comparado com
ret-compare-too-few = poucos clientes para comparar
ret-compare-same = sem diferença clara
ret-compare-less = { $points } pontos a menos
ret-compare-more = { $points } pontos a mais
ret-chart-lateness = Recompra pelo atraso da primeira entrega (intervalos de 95%)
ret-chart-cohorts = Parcela com um segundo pedido, por meses desde o primeiro, por mês do primeiro pedido
ret-cohorts = Coortes
ret-first-order = Primeiro pedido
ret-months = mês { $months }
ret-dim-lateness = Atraso na entrega
ret-dim-carrier = Transportadora
ret-dim-exception = Problema no envio
ret-dim-failed-attempt = Tentativa de entrega sem sucesso
ret-dim-nps = Resposta NPS
ret-dim-csat = Resposta CSAT
ret-dim-ces = Resposta CES
ret-dim-product = Primeiro produto
ret-dim-recovery = Compensação
ret-yes = Sim
ret-no = Não
ret-group-promoter = Promotores
ret-group-passive = Neutros
ret-group-detractor = Detratores
ret-group-satisfied = Satisfeitos
ret-group-neutral = Neutros
ret-group-unsatisfied = Insatisfeitos
ret-group-easy = Fácil
ret-group-hard = Difícil
ret-group-recovered = Com compensação
ret-group-not-recovered = Sem compensação
